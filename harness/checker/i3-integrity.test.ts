import { describe, expect, test } from 'vitest';
import { checkIntegrity } from './i3-integrity.ts';
import { runFacts } from './run-facts.ts';
import { cleanWorld, imageOf, standardCaptures, useScratchClient } from './test-world.ts';

describe('I3 integrity', () => {
  const client = useScratchClient('checker_i3');

  test('passes on a consistent world', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const v = await checkIntegrity(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I3', verdict: 'pass', offendingCount: 0 });
    expect(v.summary).toContain('4 complete rows');
  });

  test('fails when the blob lacks its EOI marker', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 0);
    const noEoi = Buffer.from(image.bytes);
    noEoi[noEoi.length - 1] = 0x00;
    await client().query('UPDATE image_blobs SET bytes = $2 WHERE image_id = $1', [image.imageId, noEoi]);
    const v = await checkIntegrity(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({
        imageId: image.imageId,
        problems: expect.arrayContaining(['blob does not end FF D9', expect.stringContaining('is no capture')]),
      }),
    ]);
  });

  test('fails on a size mismatch (a chunk lost, bytes truncated)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 1);
    await client().query('UPDATE device_images SET image_size = image_size + 1024 WHERE image_id = $1', [
      image.imageId,
    ]);
    const v = await checkIntegrity(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({
      imageName: 'image_2.jpg',
      problems: [expect.stringContaining('image_size')],
    });
  });

  test('fails when received_chunks ≠ total_chunks on a complete row', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 2);
    await client().query('UPDATE device_images SET received_chunks = received_chunks - 1 WHERE image_id = $1', [
      image.imageId,
    ]);
    const v = await checkIntegrity(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({ problems: [expect.stringMatching(/^received_chunks \d+ ≠ total_chunks/)] });
  });

  test('fails when a stored image splices the chunks of two captures', async () => {
    // two captures of the same device under one name and one size: chunk for chunk interchangeable
    const { world, history } = await cleanWorld(client(), [
      { mac: 'B8F862F9C1C4', imageName: 'image_1.jpg', sizeBytes: 4096 },
      { mac: 'B8F862F9C1C4', imageName: 'image_1.jpg', sizeBytes: 4096 },
    ]);
    const a = imageOf(world, 0);
    const b = imageOf(world, 1);
    const spliced = Buffer.concat([a.bytes.subarray(0, 2048), b.bytes.subarray(2048)]);
    await client().query('UPDATE image_blobs SET bytes = $2 WHERE image_id = $1', [a.imageId, spliced]);
    const v = await checkIntegrity(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    // size and both markers are right: only the hash tells
    expect(v.offending).toEqual([
      expect.objectContaining({
        imageId: a.imageId,
        problems: [expect.stringContaining('is no capture of device B8F862F9C1C4')],
      }),
    ]);
  });

  test("fails when a row holds another capture's bytes (swapped after a name reuse)", async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const first = imageOf(world, 0); // image_1.jpg
    const reused = imageOf(world, 3); // image_1.jpg again, after a counter reset: another picture
    await client().query('UPDATE image_blobs SET bytes = $2 WHERE image_id = $1', [first.imageId, reused.bytes]);
    await client().query('UPDATE device_images SET image_size = $2 WHERE image_id = $1', [
      first.imageId,
      reused.bytes.length,
    ]);
    const v = await checkIntegrity(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({ imageId: first.imageId, problems: [expect.stringContaining("is another capture's")] }),
    ]);
  });

  test('fails when a complete row has no blob', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 3);
    await client().query('DELETE FROM image_blobs WHERE image_id = $1', [image.imageId]);
    const v = await checkIntegrity(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({ imageId: image.imageId, problems: ['no blob'] });
  });

  test('unknown without image_blobs', async () => {
    const { history } = await cleanWorld(client(), standardCaptures, { stage: 'resume' });
    const v = await checkIntegrity(client(), runFacts(history.events));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('image_blobs does not exist');
  });
});
