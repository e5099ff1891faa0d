// No secret is ever printed or written (issue 7 §4): real processes on password-bearing URLs (the machine's
// PostgreSQL trusts any password, Mosquitto takes any user), and `s3cret` must appear in no output and no file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { externalBrokerTarget, externalTarget, scratchDatabase } from '../../test/databases.ts';
import { runCli, startCli, type CliRun } from '../../test/run-cli.ts';
import { tempDir } from '../../test/temp-dir.ts';

const secret = 's3cret';
const database = externalTarget();
const broker = externalBrokerTarget();

function withPassword(url: string, user?: string): string {
  const u = new URL(url);
  if (user !== undefined) u.username = user;
  u.password = secret;
  return u.toString();
}

/** Every file under `dir`, with its text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

function expectNoSecret(run: CliRun, dirs: readonly string[] = []): void {
  expect(run.stdout).not.toContain(secret);
  expect(run.stderr).not.toContain(secret);
  for (const dir of dirs) {
    const files = filesUnder(dir);
    expect(files.length, `files written under ${dir}`).toBeGreaterThan(0);
    for (const file of files) expect(file.text, file.path).not.toContain(secret);
  }
}

/** The databases a run says it kept (`(kept: <url>)`: --keep-db, an external pipeline, a replay of a bundle whose
 *  run kept its database); the test drops them, so nothing is left on the server. */
function keptDatabases(...runs: (CliRun | undefined)[]): string[] {
  return runs.flatMap((r) =>
    [...(r?.stdout ?? '').matchAll(/\(kept: (\S+)\)/g)].map((m) => new URL(m[1] ?? '').pathname.slice(1)),
  );
}

async function dropDatabases(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const admin = new pg.Client({ connectionString: database.server?.url });
  await admin.connect();
  try {
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

const live = database.server && broker.url ? describe : describe.skip;

live(`URLs with passwords (${database.label}, ${broker.label})`, () => {
  const databaseUrl = withPassword(database.server?.url ?? '');
  const brokerUrl = withPassword(broker.url ?? '', 'user');
  const world = ['--database-url', databaseUrl, '--broker-url', brokerUrl];

  test('simulate --json --report --history: the run passes and no output or file holds the password', async () => {
    const dir = tempDir('camfleet-secrets-');
    const r = await runCli('simulate.ts', [
      ...['--devices', '3', '--image-kb', '8', '--seed', '3', '--json'],
      ...['--report', join(dir, 'report'), '--history', join(dir, 'history.ndjson')],
      ...world,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expectNoSecret(r, [dir]);
    const summary = JSON.parse(r.stdout) as { options: { databaseUrl: string; brokerUrl: string } };
    expect(summary.options.databaseUrl).toBe(databaseUrl.replace(`:${secret}@`, ':***@'));
    expect(summary.options.brokerUrl).toBe(brokerUrl.replace(`:${secret}@`, ':***@'));
    expect(r.stderr).toContain(`broker=${brokerUrl.replace(`:${secret}@`, ':***@')}`);
  });

  test('a failing run with --keep-db: bundle, report and the kept-database line are redacted; replay from bundle.json still works', async () => {
    const dir = tempDir('camfleet-secrets-');
    const args = [
      ...['--devices', '4', '--image-kb', '8', '--seed', '4', '--pipeline', 'legacy-insert', '--stage', 'base'],
      ...['--double-send-rate', '1'],
    ];
    const first = await runCli('simulate.ts', [...args, '--keep-db', '--report', dir, ...world]);
    const kept = /\(kept: (\S+)\)/.exec(first.stdout)?.[1];
    let replay: CliRun | undefined;
    try {
      expect(first.code, first.stdout + first.stderr).toBe(1);
      expect(kept).toMatch(/^postgres:\/\/postgres:\*\*\*@/);
      expectNoSecret(first, [dir]);
      // The bundle keeps no URL: the replay takes them from its own flags (the bundle.json file is accepted too).
      const bundleFile = join(dir, 'bundles', 'simulate-seed4', 'bundle.json');
      replay = await runCli('simulate.ts', ['--replay', bundleFile, '--report', join(dir, 'replay'), ...world]);
      expect(replay.code, replay.stdout + replay.stderr).toBe(1);
      expect(replay.stdout).toMatch(/I1 unique \.+ FAIL/);
      expectNoSecret(replay, [join(dir, 'replay')]);
    } finally {
      // The replay repeats the run's options, --keep-db included: both databases are dropped here.
      await dropDatabases(keptDatabases(first, replay));
    }
  });

  test('--pipeline external: what the service prints of the URLs it is given is relayed with passwords masked', async () => {
    const tsx = join(new URL('../../', import.meta.url).pathname, 'node_modules', '.bin', 'tsx');
    const service = `echo "given $DATABASE_URL and $MQTT_URL"; exec ${tsx} harness/cli/pipeline.ts --migrate --stats-interval-s 0`;
    const r = await runCli('simulate.ts', [
      ...['--devices', '2', '--image-kb', '8', '--seed', '11', '--pipeline', 'external', '--external-cmd', service],
      ...world,
    ]);
    // An external pipeline's run database outlives the run (the user's service may still hold it): dropped here.
    await dropDatabases(keptDatabases(r));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[external\] given postgres:\/\/postgres:\*\*\*@\S+ and mqtt:\/\/user:\*\*\*@/);
    expectNoSecret(r);
  });

  test('connection errors name host and port, never the password', async () => {
    const db = await runCli('simulate.ts', [
      '--quiet',
      '--database-url',
      `postgres://postgres:${secret}@127.0.0.1:1/x`,
    ]);
    expect(db.code).toBe(2);
    expect(db.stderr).toContain('cannot connect to Postgres at 127.0.0.1:1');
    expectNoSecret(db);
    const mq = await runCli('simulate.ts', ['--quiet', '--broker-url', `mqtt://user:${secret}@127.0.0.1:1`]);
    expect(mq.code).toBe(2);
    expect(mq.stderr).toContain('cannot connect to the MQTT broker at 127.0.0.1:1');
    expectNoSecret(mq);
    const bad = await runCli('simulate.ts', ['--database-url', `postgres://postgres:${secret}@h:notaport/db`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--database-url: postgres://postgres:***@h:notaport/db is not a valid Postgres URL');
    expectNoSecret(bad);
  });

  describe('npm run pipeline', () => {
    let url: string;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const db = await scratchDatabase(database.server!, 'secrets_cli');
      url = withPassword(db.url);
      drop = () => db.drop();
    });
    afterAll(async () => drop?.());

    test('its "subscribed at" and "pipeline running" lines show redacted URLs', async () => {
      const service = startCli('pipeline.ts', ['--broker-url', brokerUrl, '--database-url', url, '--migrate']);
      try {
        await service.waitForOutput(/pipeline running/);
      } finally {
        service.child.kill('SIGTERM');
      }
      const run = await service.done;
      expect(run.stdout).toContain(`subscribed at ${brokerUrl.replace(`:${secret}@`, ':***@')}`);
      expect(run.stdout).toMatch(/pipeline running: broker mqtt:\/\/user:\*\*\*@/);
      expectNoSecret(run);
      const unreachable = await runCli('pipeline.ts', [
        ...['--broker-url', `mqtt://user:${secret}@127.0.0.1:1`, '--database-url', url],
      ]);
      expect(unreachable.code).toBe(2);
      expect(unreachable.stderr).toContain('cannot connect to the MQTT broker at mqtt://user:***@127.0.0.1:1');
      expectNoSecret(unreachable);
    });
  });
});
