import { describe, expect, test } from 'vitest';
import { checkDuplicatesLogged } from './i6-duplicates-logged.ts';
import { runFacts } from './run-facts.ts';
import {
  cleanWorld,
  imageOf,
  insertImage,
  metadataOf,
  standardCaptures,
  useScratchClient,
  type WorldImage,
} from './test-world.ts';
import type { History } from '../history/history.ts';
import type pg from 'pg';

/** The device re-sends an image it already dequeued (a double send). */
function reannounce(history: History, image: WorldImage): void {
  const { mac, imageName, sha256 } = image.record;
  history.append({ type: 'device_sent_metadata', mac, imageName, sha256 });
  history.append({ type: 'pipeline_duplicate_logged', mac, imageName });
}

async function logDuplicate(client: pg.ClientBase, image: WorldImage): Promise<void> {
  await client.query(
    `INSERT INTO duplicate_images_log (device_id, image_id, image_name, duplicate_metadata) VALUES ($1, $2, $3, $4)`,
    [image.deviceId, image.imageId, image.storedName, metadataOf(image)],
  );
}

describe('I6 duplicates logged, not stored', () => {
  const client = useScratchClient('checker_i6');

  test('passes with "0 re-announcements" when none happened', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I6', verdict: 'pass', summary: '0 re-announcements' });
  });

  test('passes when a re-announced image is logged and stored once (a disambiguated capture too)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    for (const i of [0, 3]) {
      reannounce(history, imageOf(world, i));
      await logDuplicate(client(), imageOf(world, i));
    }
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('pass');
    expect(v.summary).toContain('2 images re-announced');
  });

  test('fails when the re-announce created a second row', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 1);
    reannounce(history, image);
    await logDuplicate(client(), image);
    // a pipeline that took the re-send for a new capture and stored it under another name
    const copyId = await insertImage(
      client(),
      { ...image, storedName: 'image_2~dup.jpg' },
      { imageId: crypto.randomUUID(), status: 'receiving', receivedChunks: 1 },
    );
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({
        mac: image.record.mac,
        imageName: 'image_2.jpg',
        problems: ['2 image rows hold this capture, expected 1'],
        rows: expect.arrayContaining([expect.objectContaining({ imageId: copyId })]),
      }),
    ]);
  });

  test('fails when no duplicate_images_log row was written', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    reannounce(history, imageOf(world, 2));
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({ mac: '98A316F82928', problems: ['no duplicate_images_log row for it'] });
  });

  test('a log row for another image of the device does not count', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    reannounce(history, imageOf(world, 1));
    await logDuplicate(client(), imageOf(world, 0));
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
  });

  test('before the resume stage: unknown, only the no-new-row half checked (and that half can still fail)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures, { stage: 'base' });
    const image = imageOf(world, 0);
    reannounce(history, image);
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('duplicate_images_log does not exist');
    await insertImage(client(), image, { imageId: crypto.randomUUID(), status: 'receiving' }); // legacy INSERT
    const w = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(w.verdict).toBe('fail');
    expect(w.offending[0]).toMatchObject({ problems: ['2 image rows hold this capture, expected 1'] });
  });
});
