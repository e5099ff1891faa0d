// `npm run simulate` as a user runs it: a real process, embedded broker and database by default.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';

describe('npm run simulate', () => {
  test('--json: seed and options first (stderr), a machine-readable summary on stdout, exit 0 when every invariant passes', async () => {
    const server = primaryTarget().server!;
    const env = server.kind === 'external' ? { DATABASE_URL: server.url } : {};
    const r = await runCli(
      'simulate.ts',
      ['--devices', '4', '--images', '2', '--image-kb', '10', '--seed', '77', '--faults', 'none', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe('seed: 77');
    expect(r.stderr).toContain(
      'replay: npm run simulate -- --seed 77 --devices 4 --images 2 --image-kb 10 --faults none',
    );
    const summary = JSON.parse(r.stdout) as {
      seed: number;
      verdict: string;
      invariants: { id: string; verdict: string }[];
      fleet: { captured: number; acked: number };
      pipeline: { imagesCompleted: number; rejected: number };
    };
    expect(summary.seed).toBe(77);
    expect(summary.verdict).toBe('pass');
    // No planned fault and no named exercise: nothing for E1 to judge, so it is not reported.
    expect(summary.invariants.map((i) => `${i.id}:${i.verdict}`)).toEqual(
      ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9'].map((id) => `${id}:pass`),
    );
    expect(summary.fleet).toMatchObject({ captured: 8, acked: 8 });
    expect(summary.pipeline).toMatchObject({ imagesCompleted: 8, rejected: 0 });
  });

  test('a human summary and verdicts without --json; progress lines when stdout is not a terminal', async () => {
    const r = await runCli('simulate.ts', ['--devices', '3', '--image-kb', '8', '--seed', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^seed: 5$/m);
    expect(r.stdout).toMatch(/images captured \/ complete\s+\| 3 \/ 3 \(3 acknowledged\)/);
    expect(r.stdout).toMatch(/I1 unique \.+ PASS/);
    expect(r.stdout).toMatch(/I8 no-phantoms \.+ PASS/);
    expect(r.stdout).toContain('verdict: PASS');
  });

  test('usage and environment errors exit 2 with one clear line', async () => {
    const usage = await runCli('simulate.ts', ['--devices', '0']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('error: --devices must be a positive number, got 0');
    const unknown = await runCli('simulate.ts', ['--devcies', '5']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown argument: devcies/);
    const db = await runCli('simulate.ts', ['--devices', '2', '--quiet'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x',
    });
    expect(db.code).toBe(2);
    expect(db.stderr.trim()).toMatch(
      /^error: cannot connect to Postgres at 127\.0\.0\.1:1 \(DATABASE_URL\): .*ECONNREFUSED/,
    );
    const mq = await runCli('simulate.ts', ['--devices', '2', '--quiet'], { MQTT_URL: 'mqtt://127.0.0.1:1' });
    expect(mq.code).toBe(2);
    expect(mq.stderr.trim()).toMatch(/^error: cannot connect to the MQTT broker at 127\.0\.0\.1:1 \(MQTT_URL\)/);
  });

  test('--pipeline external: starts the given command with MQTT_URL and DATABASE_URL, drives the fleet, checks', async () => {
    const tsx = join(new URL('../../', import.meta.url).pathname, 'node_modules', '.bin', 'tsx');
    const service = `${tsx} harness/cli/pipeline.ts --migrate --stats-interval-s 0`;
    const r = await runCli('simulate.ts', [
      '--devices',
      '3',
      '--image-kb',
      '8',
      '--seed',
      '11',
      '--pipeline',
      'external',
      '--external-cmd',
      service,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('[external] pipeline running');
    // Complete rows as the database holds them, whoever stored them.
    expect(r.stdout).toMatch(/images captured \/ complete\s+\| 3 \/ 3 \(3 acknowledged\)/);
    expect(r.stdout).toContain('verdict: PASS');
  });

  test('a failing run writes a bundle, --report writes JUnit, and --replay re-runs the same workload and faults', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'camfleet-replay-'));
    try {
      const args = [
        '--devices',
        '6',
        '--image-kb',
        '8',
        '--seed',
        '4',
        '--pipeline',
        'legacy-insert',
        '--stage',
        'base',
        '--faults',
        'none',
        '--double-send-rate',
        '1',
      ];
      const first = await runCli('simulate.ts', [...args, '--report', dir]);
      expect(first.code, first.stdout + first.stderr).toBe(1);
      expect(first.stdout).toMatch(/I1 unique \.+ FAIL/);
      const bundleDir = join(dir, 'bundles', 'simulate-seed4');
      expect(first.stdout).toContain(`replay: npm run simulate -- --replay ${bundleDir}`);
      expect(existsSync(join(bundleDir, 'bundle.json'))).toBe(true);
      expect(readFileSync(join(bundleDir, 'history.ndjson'), 'utf8')).toContain('"fault":"double_send"');
      const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
      expect(junit).toMatch(/<testcase[^>]*name="I1 unique"[^>]*>\s*<failure/);
      const replay = await runCli('simulate.ts', ['--replay', bundleDir]);
      expect(replay.code, replay.stdout + replay.stderr).toBe(1);
      expect(replay.stdout).toContain(`seed: 4 (replaying ${bundleDir})`);
      expect(replay.stdout).toContain('faults: device.doubleSendRate=1');
      expect(replay.stdout).toMatch(/I1 unique \.+ FAIL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
