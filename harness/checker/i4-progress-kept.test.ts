import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { migrateUp } from '../../schema/runner.ts';
import { checkProgressKept } from './i4-progress-kept.ts';
import { installProgressAudit, progressAuditInstalled } from './progress-audit.ts';
import { runFacts } from './run-facts.ts';
import {
  cleanWorld,
  imageOf,
  insertImage,
  resetDatabase,
  standardCaptures,
  useScratchClient,
  type WorldImage,
} from './test-world.ts';
import type pg from 'pg';

/** Puts the image back in flight with its first `chunks` chunks stored in image_chunks. */
async function inFlight(client: pg.ClientBase, image: WorldImage, chunks: number): Promise<void> {
  await client.query('DELETE FROM image_blobs WHERE image_id = $1', [image.imageId]);
  await client.query(`UPDATE device_images SET status = 'receiving', received_chunks = $2 WHERE image_id = $1`, [
    image.imageId,
    chunks,
  ]);
  for (let id = 0; id < chunks; id++) {
    await client.query('INSERT INTO image_chunks (image_id, chunk_id, bytes) VALUES ($1, $2, $3)', [
      image.imageId,
      id,
      image.bytes.subarray(id * 1024, (id + 1) * 1024),
    ]);
  }
}

describe('I4 progress kept', () => {
  const client = useScratchClient('checker_i4');

  test('passes when updates only raise received_chunks; the audit installs twice without harm', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 0);
    // before the audit: the row is back in flight with 1 chunk
    await client().query(`UPDATE device_images SET status = 'receiving', received_chunks = 1 WHERE image_id = $1`, [
      image.imageId,
    ]);
    await installProgressAudit(client());
    await installProgressAudit(client());
    expect(await progressAuditInstalled(client())).toEqual({ table: true, trigger: true });
    await client().query(`UPDATE device_images SET received_chunks = 2 WHERE image_id = $1`, [image.imageId]);
    // resume: progress kept (same value), then raised
    await client().query(`UPDATE device_images SET status = 'receiving' WHERE image_id = $1`, [image.imageId]);
    await client().query(
      `UPDATE device_images SET status = 'complete', received_chunks = total_chunks WHERE image_id = $1`,
      [image.imageId],
    );
    const v = await checkProgressKept(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I4', verdict: 'pass', offendingCount: 0 });
  });

  test('fails when an UPDATE lowers received_chunks (the legacy resume reset to 0)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    await installProgressAudit(client());
    const image = imageOf(world, 1);
    await client().query(`UPDATE device_images SET status = 'receiving', received_chunks = 0 WHERE image_id = $1`, [
      image.imageId,
    ]);
    const v = await checkProgressKept(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({
        mac: image.record.mac,
        imageName: 'image_2.jpg',
        imageId: image.imageId,
        oldReceivedChunks: image.totalChunks,
        newReceivedChunks: 0,
        oldStatus: 'complete',
        newStatus: 'receiving',
      }),
    ]);
  });

  test('works on the base stage too (setting received_chunks to NULL counts as a loss)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures, { stage: 'base' });
    await installProgressAudit(client());
    await client().query(`UPDATE device_images SET received_chunks = NULL WHERE image_id = $1`, [
      imageOf(world, 2).imageId,
    ]);
    const v = await checkProgressKept(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({ newReceivedChunks: null });
  });

  test('unknown when the audit was never installed', async () => {
    await resetDatabase(client(), 'pipeline');
    const v = await checkProgressKept(client(), runFacts([]));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('installProgressAudit');
  });

  test('unknown when the audit trigger was dropped and nothing was recorded', async () => {
    await resetDatabase(client(), 'pipeline');
    await installProgressAudit(client());
    await client().query('DROP TRIGGER camfleet_progress_audit_trigger ON device_images');
    const v = await checkProgressKept(client(), runFacts([]));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('trigger');
  });

  test('fails when a resume deletes the row and re-inserts it at 0 (no UPDATE ever lowers the count)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 1);
    await inFlight(client(), image, 2);
    await installProgressAudit(client());
    await client().query('DELETE FROM device_images WHERE image_id = $1', [image.imageId]);
    await insertImage(client(), image, { status: 'receiving', receivedChunks: 0 });
    const v = await checkProgressKept(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.summary).toContain('1 rows with progress deleted');
    expect(v.offending).toEqual([
      expect.objectContaining({
        kind: 'row_deleted',
        mac: image.record.mac,
        imageName: 'image_2.jpg',
        imageId: image.imageId,
        oldReceivedChunks: 2,
        oldStatus: 'receiving',
      }),
    ]);
  });

  test('fails when the chunks behind the count are deleted and received_chunks kept', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 0);
    await inFlight(client(), image, 3);
    await installProgressAudit(client());
    await client().query('DELETE FROM image_chunks WHERE image_id = $1 AND chunk_id < 2', [image.imageId]);
    const v = await checkProgressKept(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({
        kind: 'chunks_deleted',
        mac: image.record.mac,
        imageId: image.imageId,
        chunksDeleted: 2,
        oldReceivedChunks: 3,
        newReceivedChunks: 3,
      }),
    ]);
  });

  test('a backed-up delete (the cleanup) is no loss, nor are the chunks cascading from it', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 2);
    await inFlight(client(), image, 2);
    await installProgressAudit(client());
    // What schema/002_cleanup.sql does to a ranked-out row, by hand at the pipeline stage: back up, then delete.
    await client().query(
      `INSERT INTO device_images_duplicates_backup (image_id, device_id, image_name, captured_at, received_chunks, status)
       SELECT image_id, device_id, image_name, captured_at, received_chunks, status FROM device_images
       WHERE image_id = $1`,
      [image.imageId],
    );
    await client().query('DELETE FROM device_images WHERE image_id = $1', [image.imageId]);
    const v = await checkProgressKept(client(), runFacts(history.events));
    expect(v).toMatchObject({ verdict: 'pass', offendingCount: 0 });
  });

  test('the real cleanup migration over duplicates with progress is not flagged; a later delete is', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures, { stage: 'base' });
    const image = imageOf(world, 0);
    // Two extra rows of the same (device, name) in flight: the cleanup keeps the complete one and deletes these.
    for (const received of [1, 2]) {
      await insertImage(client(), image, { imageId: randomUUID(), status: 'receiving', receivedChunks: received });
    }
    await installProgressAudit(client());
    await migrateUp(client(), 'cleanup');
    const removed = await client().query('SELECT count(*)::int AS n FROM device_images_duplicates_backup');
    expect(removed.rows[0].n).toBe(2);
    expect(await checkProgressKept(client(), runFacts(history.events))).toMatchObject({ verdict: 'pass' });
    await client().query('DELETE FROM device_images WHERE image_id = $1', [imageOf(world, 1).imageId]);
    const v = await checkProgressKept(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([expect.objectContaining({ kind: 'row_deleted', imageId: imageOf(world, 1).imageId })]);
  });

  test('unknown when image_chunks was created after the audit (its deletes went unobserved)', async () => {
    await resetDatabase(client(), 'resume');
    await installProgressAudit(client());
    expect(await progressAuditInstalled(client())).toEqual({ table: true, trigger: true });
    await migrateUp(client(), 'pipeline');
    expect(await progressAuditInstalled(client())).toEqual({ table: true, trigger: false });
    const v = await checkProgressKept(client(), runFacts([]));
    expect(v.verdict).toBe('unknown');
  });
});
