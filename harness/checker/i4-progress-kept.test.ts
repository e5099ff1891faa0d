import { describe, expect, test } from 'vitest';
import { checkProgressKept } from './i4-progress-kept.ts';
import { installProgressAudit, progressAuditInstalled } from './progress-audit.ts';
import { runFacts } from './run-facts.ts';
import { cleanWorld, imageOf, resetDatabase, standardCaptures, useScratchClient } from './test-world.ts';

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
});
