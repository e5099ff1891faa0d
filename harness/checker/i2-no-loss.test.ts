import { describe, expect, test } from 'vitest';
import { checkNoLoss } from './i2-no-loss.ts';
import { runFacts } from './run-facts.ts';
import { cleanWorld, imageOf, standardCaptures, useScratchClient } from './test-world.ts';

describe('I2 no loss', () => {
  const client = useScratchClient('checker_i2');

  test('passes when every dequeued image is stored complete with its bytes (name reuse included)', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const v = await checkNoLoss(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I2', verdict: 'pass', offendingCount: 0 });
    expect(v.summary).toContain('4 dequeued images');
  });

  test('fails when a dequeued image is missing', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const gone = imageOf(world, 1);
    await client().query('DELETE FROM device_images WHERE image_id = $1', [gone.imageId]);
    const v = await checkNoLoss(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offendingCount).toBe(1);
    expect(v.offending[0]).toMatchObject({
      mac: gone.record.mac,
      imageName: 'image_2.jpg',
      sha256: gone.record.sha256,
      found: 'no row of this device under that name',
    });
  });

  test('fails when a dequeued image is stored with other bytes (a reused name overwrote the old picture)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const old = imageOf(world, 0);
    const reused = imageOf(world, 3);
    // the naive pipeline: the new capture's bytes land in the old row, and no disambiguated row exists
    await client().query('DELETE FROM device_images WHERE image_id = $1', [reused.imageId]);
    await client().query('UPDATE image_blobs SET bytes = $2 WHERE image_id = $1', [old.imageId, reused.bytes]);
    const v = await checkNoLoss(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({
        imageName: 'image_1.jpg',
        sha256: old.record.sha256,
        found: expect.stringContaining('complete'),
      }),
    ]);
  });

  test('fails when the row of a dequeued image is still receiving', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 2);
    await client().query(`UPDATE device_images SET status = 'receiving' WHERE image_id = $1`, [image.imageId]);
    const v = await checkNoLoss(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({ mac: image.record.mac, found: expect.stringContaining('receiving') });
  });

  test('unknown without the image_blobs table (bytes cannot be checked), fail still proven by a missing row', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures, { stage: 'resume' });
    const v = await checkNoLoss(client(), runFacts(history.events));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('image_blobs');
    await client().query('DELETE FROM device_images WHERE image_id = $1', [imageOf(world, 0).imageId]);
    const w = await checkNoLoss(client(), runFacts(history.events));
    expect(w.verdict).toBe('fail');
    expect(w.offendingCount).toBe(1);
  });
});
