// `npm run bench` works on a fresh clone and prints what the README says it prints — not how fast anything is
// (benchmarks print numbers; tests never time anything). A tiny fleet, the test run's own Postgres server.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { primaryTarget } from '../test/databases.ts';

const root = new URL('../', import.meta.url).pathname;

function bench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/bench.ts'), ...args], { cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('npm run bench --json: per fleet the broker and Postgres ceilings and camfleet end to end, with their ratios', async () => {
  const databaseUrl = primaryTarget().server?.url ?? '';
  const r = await bench([
    '--fleets',
    '3,5',
    '--image-kb',
    '8',
    '--no-default-mix',
    '--json',
    '--database-url',
    databaseUrl,
  ]);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { fleets: Record<string, unknown>[] };
  expect(out.fleets.map((f) => f.devices)).toEqual([3, 5]);
  for (const f of out.fleets) {
    for (const key of [
      'camfleetWallS',
      'brokerCeilingMsgPerS',
      'postgresCeilingRowsPerS',
      'endToEndChunksPerS',
      'ratioToBroker',
      'ratioToPostgres',
      'peakRssMiB',
    ])
      expect(f[key], key).toBeGreaterThan(0);
    expect(f.brokerDelivered).toBe(f.brokerPublished); // aedes in-process drops nothing
    expect(f.verdicts).toEqual(['pass']);
  }
  expect(r.stderr).toContain('simulate --devices 5 --faults none');
}, 120_000);

test('npm run bench with a bad --fleets: exit 2 before anything runs, naming the option', async () => {
  const r = await bench(['--fleets', '500,x']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--fleets must be whole numbers from 1 to 20000, comma-separated, got 500,x');
});
