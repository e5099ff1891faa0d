// Server faults: pipeline restarts planned on the scheduler (a fake control) and pg_terminate_backend
// of the pipeline's connections on a real Postgres.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPool, primaryTarget, scratchDatabase } from '../../test/databases.ts';
import type { ScratchDatabase } from '../db/scratch-database.ts';
import { History } from '../history/history.ts';
import { faultMixes, type ServerFaults } from './fault-plan.ts';
import { FaultScheduler } from './fault-scheduler.ts';
import { killBackends, PIPELINE_APPLICATION_NAME, planServerFaults, type PipelineControl } from './server-nemesis.ts';

const none = faultMixes.none.server;
const target = primaryTarget();

describe(`server nemesis (${target.label})`, () => {
  let scratch: ScratchDatabase;
  let adminPool: pg.Pool;

  beforeAll(async () => {
    if (!target.server) throw new Error('no database server');
    scratch = await scratchDatabase(target.server, 'server-nemesis');
    adminPool = newPool(scratch.url, 2);
  });
  afterAll(async () => {
    await adminPool?.end();
    await scratch?.drop();
  });

  function fakeControl() {
    let calls = 0;
    const control: PipelineControl = {
      crashAndRestart() {
        calls += 1;
        return Promise.resolve();
      },
    };
    return { control, calls: () => calls };
  }

  /** A scheduler whose progress the test sets by hand. */
  function schedulerAt(history: History) {
    const progress = { chunksStored: 0, chunksExpected: 100, transfersInFlight: 0, rowsReceiving: 0 };
    return { progress, scheduler: new FaultScheduler(history, () => progress, 1_000_000) };
  }

  it('crashes and restarts the pipeline when each trigger is due, and records pipeline_restart', async () => {
    const history = new History();
    const fake = fakeControl();
    const faults: ServerFaults = { ...none, pipelineRestartAt: ['20%', '60%'] };
    const { progress, scheduler } = schedulerAt(history);
    const nemesis = planServerFaults({ faults, history, scheduler, adminPool, control: fake.control });
    scheduler.start();
    progress.chunksStored = 30;
    scheduler.checkNow();
    await scheduler.settled();
    expect(fake.calls()).toBe(1);
    progress.chunksStored = 60;
    await scheduler.stop();
    expect(fake.calls()).toBe(2);
    expect(history.ofType('nemesis').map((e) => e.fault)).toEqual(['pipeline_restart', 'pipeline_restart']);
    expect(nemesis.stats()).toMatchObject({ pipelineRestarts: 2 });
  });

  it("kills every backend of the pipeline's pool (by application_name), and only those", async () => {
    const history = new History();
    const pipelinePool = new pg.Pool({
      connectionString: scratch.url,
      max: 3,
      application_name: `${PIPELINE_APPLICATION_NAME}-a`,
    });
    pipelinePool.on('error', () => {});
    const other = new pg.Client({ connectionString: scratch.url, application_name: 'camfleet-checker' });
    await other.connect();
    try {
      // Three pipeline connections held open, so all three are live backends.
      const held = await Promise.all([pipelinePool.connect(), pipelinePool.connect(), pipelinePool.connect()]);
      const pids = await Promise.all(
        held.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid),
      );
      for (const c of held) c.on('error', () => {});
      const fake = fakeControl();
      const { progress, scheduler } = schedulerAt(history);
      const nemesis = planServerFaults({
        faults: { ...none, killConnectionsAt: ['2-in-flight'] },
        history,
        scheduler,
        adminPool,
        control: fake.control,
      });
      scheduler.start();
      progress.transfersInFlight = 2;
      await scheduler.stop();

      const kills = history.ofType('nemesis').filter((e) => e.fault === 'kill_db_connections');
      expect(kills).toHaveLength(1);
      expect(kills[0]?.detail).toBe('3');
      expect(nemesis.stats()).toMatchObject({ killRounds: 1, backendsKilled: 3 });
      expect(scheduler.stats().errors).toEqual([]);
      for (const c of held) await expect(c.query('SELECT 1')).rejects.toThrow();
      const { rows } = await adminPool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])',
        [pids],
      );
      expect(rows[0]?.n).toBe(0);
      for (const c of held) c.release(true);
      // The others survive, and the pool gives fresh connections again (the healing).
      expect((await other.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      expect((await adminPool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      expect((await pipelinePool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      expect(await killBackends(adminPool, 'camfleet-no-such-app')).toBe(0);
    } finally {
      await other.end().catch(() => {});
      await pipelinePool.end().catch(() => {});
    }
  });
});
