// `--workers N` (simulate, pipeline): the pipeline's connections in one shared subscription; `--fleet-threads N`
// (simulate): the devices' threads. Usage errors before anything starts; a fleet on the machine's Mosquitto with several connections passes (skipped, named, when the
// broker is unreachable).
import { describe, expect, test } from 'vitest';
import { externalBrokerTarget, primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';

const env = () => {
  const server = primaryTarget().server!;
  return server.kind === 'external' ? { DATABASE_URL: server.url } : {};
};
const broker = externalBrokerTarget();

describe('--workers: usage', () => {
  test.each([
    [
      ['--workers', '3'],
      /--workers 3 needs a broker with shared subscriptions .*aedes#228.*give --broker-url, or --workers 1/,
    ],
    [['--workers', '2', '--mode', 'sim'], /--workers 2 needs a broker with shared subscriptions/],
    [
      ['--workers', '0', '--broker-url', 'mqtt://127.0.0.1:1883'],
      /--workers must be a whole number from 1 to 64, got 0/,
    ],
    [['--workers', '1.5', '--broker-url', 'mqtt://127.0.0.1:1883'], /--workers must be a whole number from 1 to 64/],
    [['--fleet-threads', '9'], /--fleet-threads must be a whole number from 0 to 8, got 9/],
    [['--fleet-threads', '1', '--mode', 'sim'], /--fleet-threads goes with live runs/],
  ])('simulate %j: exit 2, one line, nothing started', async (args, message) => {
    const r = await runCli('simulate.ts', args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toContain('seed:');
  });

  test('pipeline --workers 65 and --group a/b: exit 2 naming the option', async () => {
    const common = ['--broker-url', 'mqtt://127.0.0.1:1', '--database-url', 'postgres://x@127.0.0.1:1/db'];
    const many = await runCli('pipeline.ts', [...common, '--workers', '65']);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('--workers must be a whole number from 1 to 64, got 65');
    const group = await runCli('pipeline.ts', [...common, '--workers', '2', '--group', 'a/b']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('--group must be 1–64 of [A-Za-z0-9_.-], got a/b');
  });
});

describe.skipIf(broker.url === null)(`--workers on a real broker (${broker.label})`, () => {
  test("simulate --workers 4: four connections in the run's group, every invariant passes", async () => {
    const r = await runCli(
      'simulate.ts',
      [
        '--devices',
        '20',
        '--image-kb',
        '20',
        '--faults',
        'none',
        '--broker-url',
        broker.url ?? '',
        '--workers',
        '4',
        '--json',
      ],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/starting the ingestion pipeline \(4 connections in shared subscription group camfleet_/);
    expect(r.stderr).toMatch(/^options: .* workers=4$/m);
    const summary = JSON.parse(r.stdout) as { verdict: string };
    expect(summary.verdict).toBe('pass');
  });
});
