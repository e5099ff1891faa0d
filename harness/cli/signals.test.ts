// Ctrl-C and kill through `npm run`, exactly as the README writes the commands (issue 7 §1–2). A terminal's Ctrl-C
// is SIGINT to the whole foreground process group (npm, node, and anything in that group); the test starts npm in
// a group of its own and signals the group the same way. Each signal is sent after a line of output that says the
// work has started, never after a sleep.
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { externalTarget, primaryTarget, scratchDatabase } from '../../test/databases.ts';
import { commandNameOf, descendantPids, isRunning, processGroupOf, waitUntilGone } from '../../test/process-tree.ts';
import { startNpmScript, type CliProcess, type CliRun } from '../../test/run-cli.ts';
import { tempDir } from '../../test/temp-dir.ts';
import { migrateUp, readStageStatus } from '../../schema/runner.ts';
import { startEmbeddedBroker, type Broker } from '../world/broker.ts';

/** The node process npm runs (the script `exec`s it; without exec it would be sh's child). */
function nodeUnder(npm: CliProcess): number {
  const npmPid = npm.child.pid ?? 0;
  const node = [npmPid, ...descendantPids(npmPid)].find((pid) => commandNameOf(pid) === 'node' && pid !== npmPid);
  if (node === undefined) throw new Error(`no node process under npm (pid ${npmPid})`);
  return node;
}

const postgresUnder = (pid: number) => descendantPids(pid).filter((p) => commandNameOf(p) === 'postgres');
const tempServerDirsOf = (pid: number) => readdirSync(tmpdir()).filter((n) => n.startsWith(`camfleet-pg-${pid}-`));

async function adminQuery<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function killGroup(npm: CliProcess, signal: NodeJS.Signals): void {
  process.kill(-(npm.child.pid ?? 0), signal);
}

/** The run's end, within a bound: a process that never ends fails the test (and `finally` still kills its group). */
async function exited(npm: CliProcess, timeoutMs = 40_000): Promise<CliRun> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`npm (pid ${npm.child.pid}) still running after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([npm.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** After a failed assertion: nothing of the tree may outlive the test (ESRCH: the group is already gone). */
function killLeftovers(npm: CliProcess): void {
  try {
    killGroup(npm, 'SIGKILL');
  } catch {
    // already gone
  }
}

const external = externalTarget();

describe('npm run simulate, interrupted like Ctrl-C in a terminal (signal to the whole process group)', () => {
  const cases: { signal: NodeJS.Signals; database: 'embedded' | 'external' }[] = [
    { signal: 'SIGINT', database: 'embedded' },
    { signal: 'SIGTERM', database: 'embedded' },
    { signal: 'SIGINT', database: 'external' },
    { signal: 'SIGTERM', database: 'external' },
  ];
  test.each(cases)(
    '$signal, $database database: exit 3, summary and UNKNOWN (interrupted), bundle, nothing left behind',
    async ({ signal, database }) => {
      if (database === 'external' && !external.server) return; // reported by the external suites' names
      const reportDir = tempDir('camfleet-signals-');
      // Names the run's connections, so the test finds the run's own database among others on the server.
      const appName = `camfleet-signals-${process.pid}-${Date.now()}`;
      const args = ['--devices', '200', '--images', '4', '--faults', 'default', '--seed', '7', '--report', reportDir];
      if (database === 'external') args.push('--database-url', external.server?.url ?? '');
      const npm = startNpmScript('simulate', args, { PGAPPNAME: appName });
      try {
        // The non-terminal progress line appears only once the fleet is uploading.
        await npm.waitForOutput(/devices awake/, 40_000);
        const node = nodeUnder(npm);
        const servers = postgresUnder(node);
        let runDatabase: string | undefined;
        if (database === 'embedded') {
          expect(servers.length).toBeGreaterThan(0);
          // The embedded server is in a process group of its own: the terminal's signal does not reach it.
          for (const pid of servers) expect(processGroupOf(pid)).not.toBe(processGroupOf(npm.child.pid ?? 0));
          expect(tempServerDirsOf(node)).toHaveLength(1);
        } else {
          const rows = await adminQuery<{ datname: string }>(
            external.server?.url ?? '',
            'SELECT DISTINCT datname FROM pg_stat_activity WHERE application_name = $1',
            [appName],
          );
          expect(rows).toHaveLength(1);
          runDatabase = rows[0]?.datname;
          expect(runDatabase).toMatch(/^camfleet_simulate_/);
        }

        killGroup(npm, signal);
        const run = await exited(npm);

        expect(run.stderr).toContain(`${signal}: stopping the run and cleaning up`);
        expect(run.code).toBe(3);
        expect(run.stdout).toMatch(/^summary\s+\|/m);
        expect(run.stdout).toContain('verdict: UNKNOWN (interrupted)');
        const bundle = /^failure bundle: (.+)$/m.exec(run.stdout)?.[1];
        expect(bundle).toBeDefined();
        expect(existsSync(join(bundle ?? '', 'bundle.json'))).toBe(true);
        expect(bundle?.startsWith(reportDir)).toBe(true);
        expect(tempServerDirsOf(node)).toEqual([]);
        expect(await waitUntilGone([node, ...servers])).toEqual([]);
        if (runDatabase !== undefined) {
          const left = await adminQuery(external.server?.url ?? '', 'SELECT 1 FROM pg_database WHERE datname = $1', [
            runDatabase,
          ]);
          expect(left).toEqual([]);
        }
      } finally {
        killLeftovers(npm);
      }
    },
  );
});

describe('npm run scenario -- run, interrupted like Ctrl-C', () => {
  test('SIGINT to the group: the scenario stops, is judged unknown (interrupted), exit 3, nothing left', async () => {
    const reportDir = tempDir('camfleet-signals-');
    const npm = startNpmScript('scenario', ['run', 'chaos', '--report', reportDir]);
    try {
      // Printed just before the fleet starts: the signal lands while the fleet starts or runs.
      await npm.waitForOutput(/starting the ingestion pipeline…/, 40_000);
      const node = nodeUnder(npm);
      const servers = postgresUnder(node);
      killGroup(npm, 'SIGINT');
      const run = await exited(npm);
      expect(run.code).toBe(3);
      expect(run.stdout).toContain('(interrupted)');
      expect(run.stdout).toContain('interrupted: 1 of 1 scenarios run');
      expect(tempServerDirsOf(node)).toEqual([]);
      expect(await waitUntilGone([node, ...servers])).toEqual([]);
    } finally {
      killLeftovers(npm);
    }
  });
});

describe('npm run migrate, interrupted like Ctrl-C', () => {
  test('embedded: SIGINT while it works stops the server it started and exits 3', async () => {
    const dataDir = tempDir('camfleet-signals-migrate-');
    const npm = startNpmScript('migrate', ['--data-dir', dataDir, 'up', '--to', 'base']);
    try {
      await npm.waitForOutput(/^database: /m, 40_000, 'stderr');
      const node = nodeUnder(npm);
      const servers = postgresUnder(node);
      expect(servers.length).toBeGreaterThan(0);
      for (const pid of servers) expect(processGroupOf(pid)).not.toBe(processGroupOf(npm.child.pid ?? 0));
      killGroup(npm, 'SIGINT');
      const run = await exited(npm);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('SIGINT: cancelling the statement in progress');
      expect(run.stderr).toContain('interrupted: run `npm run migrate -- status`');
      expect(await waitUntilGone([node, ...servers])).toEqual([]);
      expect(existsSync(join(dataDir, 'camfleet-owner.pid'))).toBe(false);
    } finally {
      killLeftovers(npm);
    }
  });
});

describe('npm run migrate, interrupted during a step (DATABASE_URL)', () => {
  let url: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await scratchDatabase(primaryTarget().server!, 'migrate_signals');
    url = db.url;
    drop = () => db.drop();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await migrateUp(client, 'base');
    await client.end();
  });
  afterAll(async () => {
    await drop?.();
  });

  test('SIGINT while the cleanup step runs: the statement is cancelled, the step rolled back, exit 3', async () => {
    // A lock the test holds makes the step deterministically long: it waits until the test lets go.
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE device_images IN ACCESS EXCLUSIVE MODE');
    const appName = `camfleet-signals-migrate-${process.pid}-${Date.now()}`;
    const npm = startNpmScript('migrate', ['up', '--to', 'cleanup'], { DATABASE_URL: url, PGAPPNAME: appName });
    try {
      // Wait for the state, not a duration: the step's statement is blocked on the test's lock.
      for (;;) {
        const waiting = await adminQuery(
          url,
          "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
          [appName],
        );
        if (waiting.length > 0) break;
        if (npm.child.exitCode !== null) throw new Error('migrate ended before its step blocked');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      killGroup(npm, 'SIGINT');
      const run = await exited(npm);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('SIGINT: cancelling the statement in progress');
      expect(run.stderr).not.toContain('canceling statement'); // the interruption is not reported as an error
      await blocker.query('ROLLBACK');
      // With the lock free, nothing of the step may go on: no session of the command, the stage unchanged.
      const left = await adminQuery(url, 'SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [appName]);
      expect(left).toEqual([]);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        expect((await readStageStatus(client)).cleanup).toBe(false);
      } finally {
        await client.end();
      }
    } finally {
      killLeftovers(npm);
      await blocker.end().catch(() => {});
    }
  });
});

describe('npm run pipeline: stopped through npm, nothing outlives it', () => {
  let broker: Broker;
  let url: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    const db = await scratchDatabase(primaryTarget().server!, 'pipeline_signals');
    url = db.url;
    drop = () => db.drop();
  });
  afterAll(async () => {
    await broker?.stop();
    await drop?.();
  });

  const start = () => startNpmScript('pipeline', ['--broker-url', broker.url, '--database-url', url, '--migrate']);

  test('`kill <npm pid>` (SIGTERM to npm alone) reaches the service: it drains, exits 0, no process is left', async () => {
    const npm = start();
    try {
      await npm.waitForOutput(/pipeline running/);
      const node = nodeUnder(npm);
      const tree = [npm.child.pid ?? 0, ...descendantPids(npm.child.pid ?? 0)];
      expect(tree).toContain(node);
      process.kill(npm.child.pid ?? 0, 'SIGTERM');
      const run = await exited(npm);
      expect(await waitUntilGone(tree)).toEqual([]);
      expect(run.stdout).toContain('SIGTERM: draining…');
      expect(run.stdout).toContain('stopped cleanly');
      // npm relays SIGTERM to its child and exits with the child's code.
      expect(run.code).toBe(0);
    } finally {
      killLeftovers(npm);
    }
  });

  test('SIGINT to the group (Ctrl-C): one drain, although npm relays the same signal again; exit 0', async () => {
    const npm = start();
    try {
      await npm.waitForOutput(/pipeline running/);
      const node = nodeUnder(npm);
      killGroup(npm, 'SIGINT');
      const run = await exited(npm);
      expect(run.code).toBe(0);
      expect(run.stdout.match(/draining…/g)).toEqual(['draining…']);
      expect(run.stdout).toContain('SIGINT: draining…');
      expect(run.stdout).toContain('stopped cleanly');
      expect(await waitUntilGone([node])).toEqual([]);
    } finally {
      killLeftovers(npm);
    }
  });

  test('npm killed outright (SIGKILL, no relay): the orphaned service notices, drains and exits', async () => {
    const npm = start();
    try {
      await npm.waitForOutput(/pipeline running/);
      const node = nodeUnder(npm);
      process.kill(npm.child.pid ?? 0, 'SIGKILL');
      // The service still holds the output pipes npm handed it, so `done` waits for the service itself.
      const run = await exited(npm);
      expect(isRunning(npm.child.pid ?? 0)).toBe(false);
      expect(await waitUntilGone([node])).toEqual([]);
      expect(run.stdout).toContain('parent exited: draining…');
      expect(run.stdout).toContain('stopped cleanly');
    } finally {
      killLeftovers(npm);
    }
  });
});
