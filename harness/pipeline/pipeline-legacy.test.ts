// The legacy profiles (ARCHITECTURE.md §5, PROTOCOL.md §7): each one's bug visible in the database, on the base
// stage where the original ran, and the same scenario under `fixed` (stage 'pipeline') without it.
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { installProgressAudit } from '../checker/index.ts';
import { PipelineUsageError, pipelineProfiles } from './index.ts';
import {
  imagesOf,
  makeImage,
  nextMac,
  openTestWorld,
  rejectionsOf,
  TestDevice,
  until,
  type TestWorld,
} from './test-support.ts';

let base: TestWorld; // schema 001 + 004: no unique key, no fn_*, no duplicate_images_log
let fixedWorld: TestWorld; // schema 001..004

beforeAll(async () => {
  [base, fixedWorld] = await Promise.all([
    openTestWorld('pipeline_legacy_base', 'base'),
    openTestWorld('pipeline_legacy_fixed'),
  ]);
  await Promise.all([installProgressAudit(base.db), installProgressAudit(fixedWorld.db)]);
});
afterEach(async () => {
  await Promise.all([base?.stopPipelines(), fixedWorld?.stopPipelines()]);
});
afterAll(async () => {
  await Promise.all([base?.close(), fixedWorld?.close()]);
});

async function rowsNamed(db: pg.Pool, mac: string, name: string) {
  return (await imagesOf(db, mac)).filter((r) => r.image_name === name);
}

async function receivedChunks(db: pg.Pool, mac: string, name: string): Promise<number[]> {
  return (await rowsNamed(db, mac, name)).map((r) => r.received_chunks);
}

/** Updates that lowered received_chunks, as the checker's I4 audit recorded them (its other kinds, deletes, apart). */
async function progressLosses(db: pg.Pool, imageId: string) {
  const { rows } = await db.query<{ old_received_chunks: number; new_received_chunks: number }>(
    `SELECT old_received_chunks, new_received_chunks FROM camfleet_progress_audit
     WHERE image_id = $1 AND kind = 'lowered' ORDER BY audit_id`,
    [imageId],
  );
  return rows;
}

async function withDevice<T>(world: TestWorld, work: (d: TestDevice) => Promise<T>): Promise<T> {
  const device = await TestDevice.connect(world.broker.url, nextMac());
  try {
    return await work(device);
  } finally {
    await device.end();
  }
}

test('every profile is known; fixed refuses the base stage, the legacy ones start on it', async () => {
  expect(pipelineProfiles).toEqual([
    'fixed',
    'legacy-insert',
    'legacy-two-writers',
    'legacy-memory-chunks',
    'legacy-reset-count',
    'legacy-ttl',
  ]);
  await expect(base.pipeline({ profile: 'fixed' })).rejects.toThrow(PipelineUsageError);
  await expect(base.pipeline({ profile: 'fixed' })).rejects.toThrow(/device_images_device_id_image_name_key/);
  for (const profile of pipelineProfiles.filter((p) => p !== 'fixed')) {
    const p = await base.pipeline({ profile });
    await p.stop();
  }
  // @ts-expect-error: not a profile
  await expect(base.pipeline({ profile: 'legacy-nope' })).rejects.toThrow(/unknown pipeline profile/);
});

test('a database migrated before rejected_messages.messages existed is refused with the step to run', async () => {
  await base.db.query('ALTER TABLE rejected_messages DROP COLUMN messages');
  try {
    await expect(base.pipeline({ profile: 'legacy-insert' })).rejects.toThrow(/missing: rejected_messages\.messages/);
  } finally {
    await base.db.query(
      'ALTER TABLE rejected_messages ADD COLUMN messages integer NOT NULL DEFAULT 1 CHECK (messages >= 1)',
    );
  }
});

describe('legacy-insert (PROTOCOL.md §7.1) → I1', () => {
  const sendTwice = async (world: TestWorld, profile: 'legacy-insert' | 'fixed') => {
    await world.pipeline({ profile });
    return withDevice(world, async (d) => {
      const img = makeImage(11, 9_000, 'image_1.jpg');
      await d.sendImage(img);
      await d.waitForAck(img.name);
      const from = d.received.length;
      await d.sendImage(img); // the ACK was "missed": the firmware re-sends the queued image
      await d.waitForAck(img.name, 5000, from);
      return { rows: await rowsNamed(world.db, d.mac, img.name), sha: img.sha256 };
    });
  };

  test('base stage: the same image sent twice → two complete rows of one name', async () => {
    const { rows, sha } = await sendTwice(base, 'legacy-insert');
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => [r.status, r.blob_sha256])).toEqual([
      ['complete', sha],
      ['complete', sha],
    ]);
  });

  test('fixed: one row, the re-send logged as a duplicate', async () => {
    const { rows } = await sendTwice(fixedWorld, 'fixed');
    expect(rows).toHaveLength(1);
    const logs = await fixedWorld.db.query('SELECT 1 FROM duplicate_images_log WHERE image_id = $1', [
      rows[0]!.image_id,
    ]);
    expect(logs.rowCount).toBe(1);
  });

  test('resume stage: the INSERT fails with 23505 — recorded as unique_violation, and the service keeps serving', async () => {
    const p = await fixedWorld.pipeline({ profile: 'legacy-insert' });
    await withDevice(fixedWorld, async (d) => {
      const img = makeImage(12, 5_000, 'image_1.jpg');
      await d.sendImage(img);
      await d.waitForAck(img.name);
      await d.metadata(img);
      await until(() => p.stats().rejections.unique_violation === 1, 15_000, 'the unique_violation');
      await p.idle();
      const next = makeImage(13, 5_000, 'image_2.jpg');
      await d.sendImage(next);
      // Generous: once, under a fully loaded CI run, this ACK took longer than 5 s to arrive.
      await d.waitForAck(next.name, 15_000);
      await p.idle();
      expect(await rowsNamed(fixedWorld.db, d.mac, img.name)).toHaveLength(1);
      const rejected = (await rejectionsOf(fixedWorld.db)).filter((r) => r.device_mac === d.mac);
      expect(rejected).toEqual([expect.objectContaining({ code: 'unique_violation' })]);
      expect(rejected[0]!.reason).toMatch(/23505/);
    });
  });
});

describe('legacy-two-writers (PROTOCOL.md §7.2) → I1', () => {
  test('base stage: one new image → two rows (select-then-insert race), the service row complete', async () => {
    await base.pipeline({ profile: 'legacy-two-writers', writerRaceWindowMs: 30 });
    await withDevice(base, async (d) => {
      const img = makeImage(21, 6_000, 'image_1.jpg');
      await d.sendImage(img);
      await d.waitForAck(img.name);
      const rows = await rowsNamed(base.db, d.mac, img.name);
      expect(rows).toHaveLength(2);
      expect(rows.map((r) => r.status).sort()).toEqual(['complete', 'receiving']);
    });
  });

  test('resume stage: the unique key stops the race (23505 handled) — one row, acknowledged', async () => {
    await fixedWorld.pipeline({ profile: 'legacy-two-writers', writerRaceWindowMs: 30 });
    await withDevice(fixedWorld, async (d) => {
      const img = makeImage(22, 6_000, 'image_1.jpg');
      await d.sendImage(img);
      await d.waitForAck(img.name);
      const rows = await rowsNamed(fixedWorld.db, d.mac, img.name);
      expect(rows.map((r) => [r.status, r.blob_sha256])).toEqual([['complete', img.sha256]]);
    });
  });

  test('fixed: one row', async () => {
    await fixedWorld.pipeline();
    await withDevice(fixedWorld, async (d) => {
      const img = makeImage(23, 6_000, 'image_1.jpg');
      await d.sendImage(img);
      await d.waitForAck(img.name);
      expect(await rowsNamed(fixedWorld.db, d.mac, img.name)).toHaveLength(1);
    });
  });
});

describe('legacy-reset-count (PROTOCOL.md §7.5) → I4', () => {
  const interruptedThenResumed = async (world: TestWorld, profile: 'legacy-reset-count' | 'fixed') => {
    await world.pipeline({ profile });
    return withDevice(world, async (d) => {
      const img = makeImage(31, 10_000, 'image_1.jpg'); // 10 chunks
      await d.metadata(img);
      await d.chunks(img, [0, 1, 2, 3, 4, 5]);
      await until(async () => (await receivedChunks(world.db, d.mac, img.name))[0] === 6, 5000, '6 chunks stored');
      await d.metadata(img); // next wake: resume
      await d.chunks(img, [6, 7, 8, 9]);
      await d.waitForAck(img.name);
      const [row] = await rowsNamed(world.db, d.mac, img.name);
      return { row: row!, losses: await progressLosses(world.db, row!.image_id), sha: img.sha256 };
    });
  };

  test('base stage: the resume sets received_chunks back to 0 — the audit records the loss', async () => {
    const { row, losses, sha } = await interruptedThenResumed(base, 'legacy-reset-count');
    expect(losses).toEqual([{ old_received_chunks: 6, new_received_chunks: 0 }]);
    // Otherwise a working service: the image still completes, intact.
    expect(row).toMatchObject({ status: 'complete', received_chunks: 10, blob_sha256: sha });
  });

  test('fixed: progress is kept', async () => {
    const { row, losses } = await interruptedThenResumed(fixedWorld, 'fixed');
    expect(losses).toEqual([]);
    expect(row).toMatchObject({ status: 'complete', received_chunks: 10 });
  });
});

describe('legacy-ttl (PROTOCOL.md §7.6) → I4', () => {
  const idleBeyondTtl = async (world: TestWorld, profile: 'legacy-ttl' | 'fixed') => {
    const p = await world.pipeline({ profile, chunkTtlMs: 250 });
    return withDevice(world, async (d) => {
      const img = makeImage(41, 8_000, 'image_1.jpg'); // 8 chunks
      await d.metadata(img);
      await d.chunks(img, [0, 1, 2, 3, 4]);
      await until(async () => (await receivedChunks(world.db, d.mac, img.name))[0] === 5, 5000, '5 chunks stored');
      const [row] = await rowsNamed(world.db, d.mac, img.name);
      if (profile === 'legacy-ttl') {
        await until(
          async () => (await progressLosses(world.db, row!.image_id)).length > 0,
          5000,
          'the chunk buffer to expire',
        );
      } else await new Promise((r) => setTimeout(r, 700));
      const afterWait = (await receivedChunks(world.db, d.mac, img.name))[0];
      // The next wake: the device re-sends the whole image.
      await d.sendImage(img);
      await d.waitForAck(img.name);
      await p.idle();
      const [done] = await rowsNamed(world.db, d.mac, img.name);
      return { afterWait, losses: await progressLosses(world.db, row!.image_id), done: done!, sha: img.sha256 };
    });
  };

  test('base stage: chunks idle past chunkTtlMs are deleted and received_chunks goes down', async () => {
    const { afterWait, losses, done, sha } = await idleBeyondTtl(base, 'legacy-ttl');
    expect(afterWait).toBe(0);
    expect(losses[0]).toEqual({ old_received_chunks: 5, new_received_chunks: 0 });
    expect(done).toMatchObject({ status: 'complete', received_chunks: 8, blob_sha256: sha });
  });

  test('fixed: chunks are durable across the same pause (chunkTtlMs does not apply)', async () => {
    const { afterWait, losses, done } = await idleBeyondTtl(fixedWorld, 'fixed');
    expect(afterWait).toBe(5);
    expect(losses).toEqual([]);
    expect(done).toMatchObject({ status: 'complete', received_chunks: 8 });
  });
});

describe('legacy-memory-chunks (PROTOCOL.md §7.3) → I5 / I4 / I2', () => {
  test('base stage: after a crash the rest of the transfer is dropped ("no metadata"), the image stays receiving', async () => {
    const first = await base.pipeline({ profile: 'legacy-memory-chunks' });
    await withDevice(base, async (d) => {
      const img = makeImage(51, 12_000, 'image_1.jpg'); // 12 chunks
      await d.metadata(img);
      await d.chunks(img, [0, 1, 2, 3, 4, 5, 6]);
      await until(async () => (await receivedChunks(base.db, d.mac, img.name))[0] === 7, 5000, '7 chunks counted');
      await first.crash();
      const second = await base.pipeline({ profile: 'legacy-memory-chunks' });
      await d.chunks(img, [7, 8, 9, 10, 11]);
      await until(() => second.stats().rejections.chunk_before_metadata === 5, 5000, 'the 5 chunks dropped');
      await second.idle();
      const rejected = (await rejectionsOf(base.db)).filter((r) => r.device_mac === d.mac);
      expect(rejected.map((r) => r.code)).toEqual(Array(5).fill('chunk_before_metadata'));
      const [row] = await rowsNamed(base.db, d.mac, img.name);
      expect(row).toMatchObject({ status: 'receiving', received_chunks: 7 });
      expect(d.acksFor(img.name)).toBe(0);
      // Nothing of it is in the durable chunk store: the chunks were in the crashed process only.
      const stored = await base.db.query('SELECT 1 FROM image_chunks WHERE image_id = $1', [row!.image_id]);
      expect(stored.rowCount).toBe(0);

      // The next wake re-sends the image: it resumes holding nothing, and received_chunks goes back (7 → 0).
      await d.sendImage(img);
      await d.waitForAck(img.name);
      expect((await progressLosses(base.db, row!.image_id))[0]).toEqual({
        old_received_chunks: 7,
        new_received_chunks: 0,
      });
      expect((await rowsNamed(base.db, d.mac, img.name))[0]).toMatchObject({
        status: 'complete',
        blob_sha256: img.sha256,
      });
    });
  });

  test('fixed: crash + restart mid-transfer → the transfer resumes from the durable chunk store, ACK_OK', async () => {
    const first = await fixedWorld.pipeline();
    await withDevice(fixedWorld, async (d) => {
      const img = makeImage(51, 12_000, 'image_1.jpg');
      await d.metadata(img);
      await d.chunks(img, [0, 1, 2, 3, 4, 5, 6]);
      await until(async () => (await receivedChunks(fixedWorld.db, d.mac, img.name))[0] === 7, 5000, '7 chunks');
      await first.crash();
      const second = await fixedWorld.pipeline();
      await d.chunks(img, [7, 8, 9, 10, 11]);
      await d.waitForAck(img.name);
      await second.idle();
      const [row] = await rowsNamed(fixedWorld.db, d.mac, img.name);
      expect(row).toMatchObject({ status: 'complete', received_chunks: 12, blob_sha256: img.sha256 });
      expect(await progressLosses(fixedWorld.db, row!.image_id)).toEqual([]);
      expect(second.stats().rejections.chunk_before_metadata ?? 0).toBe(0);
    });
  });
});
