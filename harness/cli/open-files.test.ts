// More devices awake at once than the open-files limit allows (fd-budget.ts): the run caps them, warns once, and
// passes — instead of dying of EMFILE part-way. The limit is lowered for this one process with the shell's ulimit.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';

const root = new URL('../../', import.meta.url).pathname;

test('--concurrency 150 with 700 open files on the embedded broker: capped at 100 with a warning, and every invariant passes', async () => {
  const server = primaryTarget().server!;
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const args = '--devices 150 --image-kb 8 --faults none --concurrency 150 --seed 2';
  const child = spawn('sh', ['-c', `ulimit -n 700 && exec "${tsx}" harness/cli/simulate.ts ${args}`], {
    cwd: root,
    env: { ...process.env, ...(server.kind === 'external' ? { DATABASE_URL: server.url } : {}) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, stdout + stderr).toBe(0);
  expect(stderr).toContain(
    'warning: devices awake at once capped at 100 (asked 150): this process may open 700 files and each awake device holds 2 sockets',
  );
  expect(stdout).toMatch(/devices\s+\| 150 done of 150/);
  expect(stdout).toContain('verdict: PASS');
}, 120_000);
