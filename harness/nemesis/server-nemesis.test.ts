// Server faults: the pipeline-restart schedule (a fake control: a unit test of the timing) and pg_terminate_backend
// of the pipeline's connections on a real Postgres.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPool, primaryTarget, scratchDatabase } from '../../test/databases.ts';
import type { ScratchDatabase } from '../db/scratch-database.ts';
import { History } from '../history/history.ts';
import { faultMixes, type ServerFaults } from './fault-plan.ts';
import { killBackends, PIPELINE_APPLICATION_NAME, startServerNemesis, type PipelineControl } from './server-nemesis.ts';

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

  function fakeControl(restartMs = 0) {
    const calls: number[] = [];
    let t0 = 0;
    const control: PipelineControl = {
      async crashAndRestart() {
        calls.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, restartMs));
      },
    };
    return { control, calls, begin: () => (t0 = performance.now()) };
  }

  it('calls crashAndRestart at each planned time and records pipeline_restart', async () => {
    const history = new History();
    const fake = fakeControl();
    const faults: ServerFaults = { ...none, pipelineRestartAtMs: [50, 200] };
    fake.begin();
    const nemesis = startServerNemesis({ faults, history, adminPool, control: fake.control });
    await new Promise((r) => setTimeout(r, 350));
    await nemesis.stop();
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[0]).toBeGreaterThanOrEqual(49);
    expect(fake.calls[0]).toBeLessThan(150);
    expect(fake.calls[1]).toBeGreaterThanOrEqual(199);
    expect(fake.calls[1]).toBeLessThan(300);
    expect(history.ofType('nemesis').map((e) => e.fault)).toEqual(['pipeline_restart', 'pipeline_restart']);
    expect(nemesis.stats()).toMatchObject({ pipelineRestarts: 2, errors: [] });
  });

  it('never overlaps two restarts, and stop() clears what has not fired', async () => {
    const history = new History();
    const fake = fakeControl(150);
    const faults: ServerFaults = { ...none, pipelineRestartAtMs: [10, 20, 5_000] };
    fake.begin();
    const nemesis = startServerNemesis({ faults, history, adminPool, control: fake.control });
    await new Promise((r) => setTimeout(r, 400));
    await nemesis.stop();
    expect(fake.calls).toHaveLength(2);
    expect((fake.calls[1] ?? 0) - (fake.calls[0] ?? 0)).toBeGreaterThanOrEqual(149); // waited for the first
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.calls).toHaveLength(2);
  });

  it('a control that fails is reported in stats, not thrown', async () => {
    const history = new History();
    const control: PipelineControl = { crashAndRestart: () => Promise.reject(new Error('no pipeline')) };
    const nemesis = startServerNemesis({
      faults: { ...none, pipelineRestartAtMs: [0] },
      history,
      adminPool,
      control,
    });
    await new Promise((r) => setTimeout(r, 50));
    await nemesis.stop();
    expect(nemesis.stats().errors).toEqual(['no pipeline']);
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
      const nemesis = startServerNemesis({
        faults: { ...none, killConnectionsAtMs: [30] },
        history,
        adminPool,
        control: fake.control,
      });
      await new Promise((r) => setTimeout(r, 200));
      await nemesis.stop();

      const kills = history.ofType('nemesis').filter((e) => e.fault === 'kill_db_connections');
      expect(kills).toHaveLength(1);
      expect(kills[0]?.detail).toBe('3');
      expect(nemesis.stats()).toMatchObject({ killRounds: 1, backendsKilled: 3, errors: [] });
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
