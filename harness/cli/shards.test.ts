// A run spread over shards (issue 10): three `simulate --shard k/3 --run-id R` processes against the machine's
// Mosquitto and PostgreSQL 15, then `npm run check -- --run-id R` proves the invariants over the whole fleet from
// the run's database alone. Also: a shard missing makes the check unknown (and keeps the database for it); a broken
// pipeline in the shards makes it fail. Skipped, named, when the broker or the server is unreachable.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { externalBrokerTarget, externalTarget } from '../../test/databases.ts';
import { runCli, startCli } from '../../test/run-cli.ts';
import { runDatabaseName } from '../run/shard.ts';

const broker = externalBrokerTarget();
const database = externalTarget();
const brokerUrl = broker.url ?? '';
const serverUrl = database.server?.url ?? '';
const runIds: string[] = [];

function newRunId(): string {
  const id = `test-${randomBytes(4).toString('hex')}`;
  runIds.push(id);
  return id;
}

/** Shards `which` of `count` of run `runId`, at once, each its own process. */
async function runShards(runId: string, which: readonly number[], count: number, extra: readonly string[] = []) {
  const common = ['--devices', '12', '--image-kb', '16', '--broker-url', brokerUrl, '--database-url', serverUrl];
  const runs = which.map((k) =>
    startCli('simulate.ts', ['--shard', `${k}/${count}`, '--run-id', runId, ...common, ...extra]),
  );
  return Promise.all(runs.map((r) => r.done));
}

async function runDatabaseExists(runId: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [runDatabaseName(runId)]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  if (database.server === null) return;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (const id of runIds) await client.query(`DROP DATABASE IF EXISTS ${runDatabaseName(id)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
});

describe.skipIf(broker.url === null || database.server === null)(
  `shards and check (${broker.label}; ${database.label})`,
  () => {
    test('three shards simulate their slices of one fleet; check proves the invariants over all of it and drops the database', async () => {
      const runId = newRunId();
      const shards = await runShards(runId, [1, 2, 3], 3, ['--faults', 'none']);
      shards.forEach((r, i) => {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`shard ${i + 1}/3 of run ${runId}: devices ${i * 4 + 1}–${i * 4 + 4}, 4 done`);
        expect(r.stdout).toContain(`npm run check -- --run-id ${runId} --database-url`);
      });
      const check = await runCli('check.ts', ['--run-id', runId, '--database-url', serverUrl]);
      expect(check.code, check.stderr).toBe(0);
      expect(check.stderr).toContain(`run ${runId}: 3 of 3 shards stored (12 devices`);
      expect(check.stdout).toMatch(/I1 unique \.+ PASS +0 duplicate .* among 12 image rows/);
      expect(check.stdout).toMatch(
        /I8 no-phantoms \.+ PASS +12 image rows all match a capture \(12 captures by 12 devices\)/,
      );
      expect(check.stdout).toContain('verdict: PASS');
      expect(await runDatabaseExists(runId)).toBe(false);
    });

    test('a shard not yet stored: unknown (exit 3), the database kept; once it has run, pass', async () => {
      const runId = newRunId();
      for (const r of await runShards(runId, [1, 3], 3, ['--faults', 'none'])) expect(r.code, r.stderr).toBe(0);
      const early = await runCli('check.ts', ['--run-id', runId, '--database-url', serverUrl]);
      expect(early.code, early.stdout + early.stderr).toBe(3);
      expect(early.stderr).toContain(`run ${runId}: shard 2 of 3 not stored yet`);
      expect(early.stdout).toContain('verdict: UNKNOWN');
      expect(await runDatabaseExists(runId)).toBe(true);
      for (const r of await runShards(runId, [2], 3, ['--faults', 'none'])) expect(r.code, r.stderr).toBe(0);
      const late = await runCli('check.ts', ['--run-id', runId, '--database-url', serverUrl]);
      expect(late.code, late.stdout + late.stderr).toBe(0);
    });

    test('shards of a broken pipeline (legacy-insert on the base stage, double sends): check fails I1, exit 1', async () => {
      const runId = newRunId();
      const extra = [
        '--pipeline',
        'legacy-insert',
        '--stage',
        'base',
        '--faults',
        'none',
        '--double-send-rate',
        '0.5',
        '--seed',
        '5',
      ];
      for (const r of await runShards(runId, [1, 2], 2, extra)) expect(r.code, r.stderr).toBe(0);
      const check = await runCli('check.ts', ['--run-id', runId, '--database-url', serverUrl]);
      expect(check.code, check.stdout + check.stderr).toBe(1);
      expect(check.stdout).toMatch(/I1 unique \.+ FAIL/);
      expect(check.stdout).toContain('verdict: FAIL');
    });
  },
);

describe('shards and check: usage', () => {
  test.each([
    [['--shard', '2/3'], '--shard needs --run-id (the same on every shard)'],
    [['--run-id', 'r1'], '--run-id goes with --shard k/n'],
    [['--shard', '4/3', '--run-id', 'r1'], '--shard must be k/n with 1 ≤ k ≤ n ≤ 1000 (e.g. 2/3), got 4/3'],
    [['--shard', '1/2', '--run-id', 'Bad Id'], '--run-id must be 1–40 of a-z, 0-9, _ and -'],
    [['--shard', '1/2', '--run-id', 'r1'], '--shard needs a broker every shard reaches (--broker-url or MQTT_URL)'],
    [
      ['--shard', '1/2', '--run-id', 'r1', '--broker-url', 'mqtt://127.0.0.1:1883'],
      '--shard needs a database server every shard reaches (--database-url or DATABASE_URL)',
    ],
  ])('simulate %j: exit 2, one line', async (args, message) => {
    const r = await runCli('simulate.ts', args, { MQTT_URL: undefined, DATABASE_URL: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test('check without a run id, and of a run that is not there: exit 2 saying so', async () => {
    const none = await runCli('check.ts', ['--database-url', 'postgres://postgres@127.0.0.1:5432/test']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Missing required argument: run-id');
    if (database.server === null) return;
    const absent = await runCli('check.ts', ['--run-id', 'never-ran', '--database-url', serverUrl]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain('no run never-ran on 127.0.0.1:5432: there is no database camfleet_run_never_ran');
  });
});
