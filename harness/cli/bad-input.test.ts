// Bad input before anything starts (issue 7 §3, §4, §8): every path and URL option is checked first, numbers are
// reported as typed. Exit 2, one line naming the option (or variable) and the value; no server started, so no
// embedded Postgres temp directory (camfleet-pg-*) is left in the process's TMPDIR.
import { chmodSync, readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runCli, type CliRun } from '../../test/run-cli.ts';
import { tempDir } from '../../test/temp-dir.ts';

/** Runs a CLI with its own TMPDIR (no DATABASE_URL: the embedded Postgres would start there), and lists what it left. */
async function runIsolated(script: string, args: string[], env: Record<string, string> = {}) {
  const tmp = tempDir('camfleet-tmp-');
  chmodSync(tmp, 0o755); // initdb runs as the postgres user when we are root: it must be able to read here
  const run = await runCli(script, args, { TMPDIR: tmp, ...env });
  return { ...run, leftBehind: readdirSync(tmp).filter((name) => name.startsWith('camfleet-pg-')) };
}

/** The first stderr line: the error itself (yargs' usage errors add "(see --help)" below it). */
const firstLine = (run: CliRun) => run.stderr.trim().split('\n')[0];

describe('path options are checked before anything starts', () => {
  const missing = '/nonexistent/dir/h.ndjson';

  test('simulate --history in a missing directory: exit 2, the option and the path, no temp dir', async () => {
    const r = await runIsolated('simulate.ts', ['--devices', '1', '--history', missing]);
    expect(r.code).toBe(2);
    expect(firstLine(r)).toBe(`error: --history ${missing}: no such directory /nonexistent/dir`);
    expect(r.stdout).toBe('');
    expect(r.leftBehind).toEqual([]);
  });

  test('scenario run --history in a missing directory: the same', async () => {
    const r = await runIsolated('scenario.ts', ['run', 'chaos', '--history', missing]);
    expect(r.code).toBe(2);
    expect(firstLine(r)).toBe(`error: --history ${missing}: no such directory /nonexistent/dir`);
    expect(r.leftBehind).toEqual([]);
  });

  test('--report below a file, --replay of nothing, --file of nothing', async () => {
    const report = await runIsolated('simulate.ts', ['--report', '/etc/hostname/report']);
    expect(report.code).toBe(2);
    expect(firstLine(report)).toBe('error: --report /etc/hostname/report: /etc/hostname is not a directory');
    expect(report.leftBehind).toEqual([]);

    const scenarioReport = await runIsolated('scenario.ts', ['run', 'chaos', '--report', '/etc/hostname/r']);
    expect(scenarioReport.code).toBe(2);
    expect(firstLine(scenarioReport)).toBe('error: --report /etc/hostname/r: /etc/hostname is not a directory');

    const replay = await runIsolated('simulate.ts', ['--replay', '/nonexistent/bundle']);
    expect(replay.code).toBe(2);
    expect(firstLine(replay)).toBe(
      'error: --replay /nonexistent/bundle: no such bundle (give its folder or its bundle.json)',
    );
    expect(replay.leftBehind).toEqual([]);

    const file = await runIsolated('scenario.ts', ['run', '--file', '/nonexistent/spec.json']);
    expect(file.code).toBe(2);
    expect(firstLine(file)).toBe('error: --file /nonexistent/spec.json: no such file');
  });
});

describe('URLs are checked before anything connects', () => {
  test('--database-url notaurl names the flag; DATABASE_URL=notaurl names the variable', async () => {
    const flag = await runIsolated('simulate.ts', ['--database-url', 'notaurl']);
    expect(flag.code).toBe(2);
    expect(firstLine(flag)).toBe(
      'error: --database-url: notaurl is not a valid Postgres URL (postgres://user@host:port/db)',
    );
    const env = await runIsolated('simulate.ts', [], { DATABASE_URL: 'notaurl' });
    expect(env.code).toBe(2);
    expect(firstLine(env)).toBe(
      'error: DATABASE_URL: notaurl is not a valid Postgres URL (postgres://user@host:port/db)',
    );
    const migrate = await runIsolated('migrate.ts', ['status'], { DATABASE_URL: 'notaurl' });
    expect(migrate.code).toBe(2);
    expect(firstLine(migrate)).toBe(
      'error: DATABASE_URL: notaurl is not a valid Postgres URL (postgres://user@host:port/db)',
    );
    expect(migrate.leftBehind).toEqual([]);
  });

  test('a broker URL that is no MQTT URL, by flag and by MQTT_URL', async () => {
    const flag = await runIsolated('scenario.ts', ['run', 'chaos', '--broker-url', 'http://broker:1883']);
    expect(flag.code).toBe(2);
    expect(firstLine(flag)).toMatch(/^error: --broker-url: http:\/\/broker:1883 is not a valid MQTT broker URL/);
    const env = await runIsolated('simulate.ts', [], { MQTT_URL: 'localhost' });
    expect(env.code).toBe(2);
    expect(firstLine(env)).toMatch(/^error: MQTT_URL: localhost is not a valid MQTT broker URL \(mqtt:\/\/host:port/);
    const pipeline = await runIsolated('pipeline.ts', ['--broker-url', 'broker', '--database-url', 'db']);
    expect(pipeline.code).toBe(2);
    expect(firstLine(pipeline)).toMatch(/^error: --database-url: db is not a valid Postgres URL/);
  });
});

describe('numbers are reported as typed', () => {
  test.each([
    ['simulate.ts', ['--devices', 'abc'], 'error: --devices must be a number, got abc'],
    ['simulate.ts', ['--time-budget-s', '10s'], 'error: --time-budget-s must be a number, got 10s'],
    ['simulate.ts', ['--reboot-rate', 'abc'], 'error: --reboot-rate must be a number, got abc'],
    [
      'simulate.ts',
      ['--pipeline-restart-at', '5%', 'later'],
      'error: --pipeline-restart-at: not a fault trigger: "later" (use "40%" (of the expected chunks stored), "3-in-flight" (transfers), "5-receiving" (rows with stored progress) or "1500ms")',
    ],
    ['scenario.ts', ['run', 'chaos', '--seed', 'x1'], 'error: --seed must be a number, got x1'],
    ['migrate.ts', ['seed-duplicates', '--devices', 'many'], 'error: --devices must be a number, got many'],
    [
      'pipeline.ts',
      ['--stats-interval-s', 'often', '--broker-url', 'mqtt://h', '--database-url', 'postgres://h/db'],
      'error: --stats-interval-s must be a number, got often',
    ],
  ])('%s %j', async (script, args, message) => {
    const r = await runIsolated(script, args);
    expect(r.code).toBe(2);
    expect(firstLine(r)).toBe(message);
    expect(r.leftBehind).toEqual([]);
  });

  test('pipeline --stats-interval-s -1 is refused; simulate --devices 0 still says what it got', async () => {
    const negative = await runIsolated('pipeline.ts', [
      ...['--stats-interval-s', '-1', '--broker-url', 'mqtt://127.0.0.1:1', '--database-url', 'postgres://h/db'],
    ]);
    expect(negative.code).toBe(2);
    expect(firstLine(negative)).toBe('error: --stats-interval-s must be 0 (never) or more seconds, got -1');
    const zero = await runIsolated('simulate.ts', ['--devices', '0']);
    expect(firstLine(zero)).toBe('error: --devices must be a positive number, got 0');
  });
});
