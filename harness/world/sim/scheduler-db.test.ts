// The seeded scheduler over the gated database: two writers doing the original's select-then-insert
// (PROTOCOL.md §7.2) in one world, their statements and results interleaved by the scheduler's seed. On the base
// stage some seeds store the image twice (the original bug) and others once; with the resume migration's unique key
// no seed does; and a seed gives the same schedule and outcome every time. The seeds are fixed: the same ones
// show the same outcomes on every machine, however fast.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRng } from '../../../simulator/random/prng.ts';
import { migrateUp } from '../../../schema/runner.ts';
import { primaryTarget, scratchDatabase } from '../../../test/databases.ts';
import type { ScratchDatabase } from '../../db/scratch-database.ts';
import type { Database } from '../sql.ts';
import { openGatedDatabase, type GatedDatabase } from './gated-database.ts';
import { gatedDatabaseSteps } from './gated-steps.ts';
import { SimScheduler } from './scheduler.ts';
import { VirtualClock } from './virtual-clock.ts';

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);

async function writer(db: Database, deviceId: string): Promise<string> {
  try {
    return await db.transaction(async (tx) => {
      const found = await tx.query('SELECT 1 FROM device_images WHERE (device_id, image_name) = ($1, $2)', [
        deviceId,
        'image_1.jpg',
      ]);
      if (found.rowCount > 0) return 'found';
      await tx.query(
        `INSERT INTO device_images (device_id, image_name, captured_at, status)
         VALUES ($1, 'image_1.jpg', timestamptz '2026-01-14 10:00:00Z', 'receiving')`,
        [deviceId],
      );
      return 'inserted';
    });
  } catch (error) {
    return `failed ${String((error as { code?: unknown }).code)}`;
  }
}

function useWorld(stage: 'base' | 'resume') {
  const w: { scratch?: ScratchDatabase; admin?: pg.Client; gated?: GatedDatabase; deviceId: string } = {
    deviceId: '',
  };
  beforeAll(async () => {
    const server = primaryTarget().server;
    if (server === null) throw new Error('no database server for tests');
    w.scratch = await scratchDatabase(server, `sched_db_${stage}`);
    w.admin = new pg.Client({ connectionString: w.scratch.url });
    await w.admin.connect();
    await migrateUp(w.admin, 'base');
    if (stage !== 'base') await migrateUp(w.admin, stage);
    const device = await w.admin.query<{ device_id: string }>(
      `INSERT INTO devices (device_mac, device_code) VALUES ('B8F862F9C1C4', 'DEVICE-ESP32S3-001') RETURNING device_id`,
    );
    w.deviceId = device.rows[0]?.device_id ?? '';
    w.gated = await openGatedDatabase({ url: w.scratch.url, slots: 2, mode: 'manual', applicationName: 'sched-db' });
  });
  afterAll(async () => {
    await w.gated?.abort();
    await w.admin?.end().catch(() => {});
    await w.scratch?.drop();
  });
  /** Both writers start at the same virtual instant; the seed decides the rest. */
  const race = async (seed: number) => {
    const gated = w.gated;
    const admin = w.admin;
    if (gated === undefined || admin === undefined) throw new Error('world not open');
    await admin.query('DELETE FROM device_images');
    const clock = new VirtualClock(0);
    const results: Promise<string>[] = [];
    for (let i = 0; i < 2; i++) clock.setTimeout(() => results.push(writer(gated, w.deviceId)), 10);
    const scheduler = new SimScheduler({
      rng: createRng(seed).fork('schedule'),
      clock,
      sources: [gatedDatabaseSteps(gated)],
    });
    const run = await scheduler.runUntil(() => false);
    const outcomes = await Promise.all(results);
    const rows = (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM device_images')).rows[0]?.n;
    return { digest: run.scheduleDigest, stop: run.stop, outcomes: outcomes.sort(), rows };
  };
  /**
   * A holds a row lock across a virtual sleep inside its transaction; B's UPDATE of that row waits on the lock.
   * Nothing but virtual time can end the wait (A's COMMIT comes after its sleep), so the scheduler must move time
   * while B is blocked instead of waiting for Postgres.
   */
  const lockHeldAcrossSleep = async (seed: number) => {
    const gated = w.gated;
    if (gated === undefined) throw new Error('world not open');
    const clock = new VirtualClock(0);
    const order: string[] = [];
    const a = gated.transaction(async (tx) => {
      await tx.query(`UPDATE devices SET device_name = 'a' WHERE device_id = $1`, [w.deviceId]);
      order.push('A locked');
      await clock.sleep(100);
      order.push('A commits');
    });
    const b = clock.sleep(20).then(async () => {
      order.push('B updates');
      await gated.query(`UPDATE devices SET device_name = 'b' WHERE device_id = $1`, [w.deviceId]);
      order.push('B done');
    });
    const scheduler = new SimScheduler({ rng: createRng(seed), clock, sources: [gatedDatabaseSteps(gated)] });
    const run = await scheduler.runUntil(() => false);
    await Promise.all([a, b]);
    return { stop: run.stop, order, virtualMs: clock.nowMs() };
  };
  return { race, lockHeldAcrossSleep };
}

describe('scheduler × gated database, base stage (no unique key)', () => {
  const { race: run, lockHeldAcrossSleep } = useWorld('base');
  test('a lock held across a virtual sleep: time moves while the other statement waits, and both finish', async () => {
    const r = await lockHeldAcrossSleep(3);
    expect(r.stop).toBe('quiescent');
    expect(r.order).toEqual(['A locked', 'B updates', 'A commits', 'B done']);
    expect(r.virtualMs).toBeGreaterThanOrEqual(100);
  });
  test('some seeds store the image twice (the original bug), others once; a seed repeats exactly', async () => {
    const byRows = new Map<number | undefined, number>();
    for (const seed of SEEDS) {
      const r = await run(seed);
      expect(r.stop).toBe('quiescent');
      byRows.set(r.rows, (byRows.get(r.rows) ?? 0) + 1);
      if (r.rows === 2) expect(r.outcomes).toEqual(['inserted', 'inserted']);
      else expect(r.outcomes).toEqual(['found', 'inserted']);
    }
    expect(byRows.get(2)).toBeGreaterThan(0);
    expect(byRows.get(1)).toBeGreaterThan(0);
    const again = [await run(5), await run(5)];
    expect(again[1]).toEqual(again[0]);
  });
});

describe('scheduler × gated database, resume stage (UNIQUE (device_id, image_name))', () => {
  const { race: run } = useWorld('resume');
  test('no seed stores the image twice: the loser finds the row or fails with 23505', async () => {
    const losers = new Set<string>();
    for (const seed of SEEDS) {
      const r = await run(seed);
      expect(r.stop).toBe('quiescent');
      expect(r.rows).toBe(1);
      expect(r.outcomes).toContain('inserted');
      losers.add(r.outcomes.find((o) => o !== 'inserted') ?? 'inserted');
    }
    expect([...losers].every((o) => o === 'found' || o === 'failed 23505')).toBe(true);
    expect(losers.has('failed 23505')).toBe(true);
  });
});
