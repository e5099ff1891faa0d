import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { checkNoPhantoms } from './i8-no-phantoms.ts';
import { runFacts } from './run-facts.ts';
import { cleanWorld, imageOf, insertImage, planWorld, standardCaptures, useScratchClient } from './test-world.ts';

describe('I8 no phantoms', () => {
  const client = useScratchClient('checker_i8');

  test('passes when every row is a capture (the disambiguated row keeps its wire name in metadata)', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const v = await checkNoPhantoms(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I8', verdict: 'pass', offendingCount: 0 });
    expect(v.summary).toContain('4 image rows all match a capture');
  });

  test('fails on a row for a name no device captured', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const device = imageOf(world, 2);
    const phantom = planWorld([{ mac: device.record.mac, imageName: 'image_7.jpg' }]).images[0]!;
    const id = await insertImage(client(), { ...phantom, deviceId: device.deviceId }, { status: 'receiving' });
    const v = await checkNoPhantoms(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({ imageId: id, wireName: 'image_7.jpg', reason: 'device never captured image_7.jpg' }),
    ]);
  });

  test('fails on a row under a captured name but another capture timestamp', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 1);
    await client().query(
      `UPDATE device_images SET metadata = jsonb_set(metadata, '{timestamp}', '"2026-01-01T00:00:00Z"') WHERE image_id = $1`,
      [image.imageId],
    );
    const v = await checkNoPhantoms(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({
      imageId: image.imageId,
      reason: expect.stringContaining('no capture of image_2.jpg at'),
    });
  });

  test('fails on rows of a device absent from the history', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const stranger = planWorld([{ mac: 'AABBCCDDEEFF', imageName: 'image_1.jpg' }]).images[0]!;
    await client().query(`INSERT INTO devices (device_id, device_mac) VALUES ($1, $2)`, [
      stranger.deviceId,
      'AA:BB:CC:DD:EE:FF',
    ]);
    await insertImage(client(), { ...stranger, imageId: randomUUID() });
    const v = await checkNoPhantoms(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({ mac: 'AABBCCDDEEFF', reason: 'device not in the history' });
  });
});
