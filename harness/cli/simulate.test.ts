// `npm run simulate` as a user runs it: a real process, embedded broker and database by default.
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';

describe('npm run simulate', () => {
  test('--json: seed and options first (stderr), a machine-readable summary on stdout, exit 0 when every invariant passes', async () => {
    const server = primaryTarget().server!;
    const env = server.kind === 'external' ? { DATABASE_URL: server.url } : {};
    const r = await runCli(
      'simulate.ts',
      ['--devices', '4', '--images', '2', '--image-kb', '10', '--seed', '77', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe('seed: 77');
    expect(r.stderr).toContain('replay: npm run simulate -- --seed 77 --devices 4 --images 2 --image-kb 10');
    const summary = JSON.parse(r.stdout) as {
      seed: number;
      verdict: string;
      invariants: { id: string; verdict: string }[];
      fleet: { captured: number; acked: number };
      pipeline: { imagesCompleted: number; rejected: number };
    };
    expect(summary.seed).toBe(77);
    expect(summary.verdict).toBe('pass');
    expect(summary.invariants.map((i) => `${i.id}:${i.verdict}`)).toEqual(
      ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8'].map((id) => `${id}:pass`),
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
});
