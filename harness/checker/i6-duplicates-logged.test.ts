import { describe, expect, test } from 'vitest';
import { checkDuplicatesLogged } from './i6-duplicates-logged.ts';
import { runFacts } from './run-facts.ts';
import {
  cleanWorld,
  imageOf,
  insertImage,
  metadataOf,
  newHistory,
  planWorld,
  resetDatabase,
  standardCaptures,
  storeWorld,
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

async function logDuplicate(
  client: pg.ClientBase,
  image: WorldImage,
  metadata: Record<string, unknown> = metadataOf(image),
): Promise<void> {
  await client.query(
    `INSERT INTO duplicate_images_log (device_id, image_id, image_name, duplicate_metadata) VALUES ($1, $2, $3, $4)`,
    [image.deviceId, image.imageId, image.storedName, metadata],
  );
}

/**
 * A clean world in which the device announced image `index` twice before it was settled (a double send): the second
 * send was published before the commit and the ACK, so the broker may have delivered it before or after the commit.
 */
async function doubleSentWorld(client: pg.ClientBase, index: number, opts: { pipelineEvents: boolean }) {
  await resetDatabase(client, 'pipeline');
  const world = planWorld(standardCaptures);
  await storeWorld(client, world);
  const image = imageOf(world, index);
  const history = newHistory();
  history.append({ type: 'run_phase', phase: 'start' });
  for (const img of world.images) {
    const { mac, imageName, sha256 } = img.record;
    history.append({ type: 'device_captured', capture: img.record });
    history.append({ type: 'device_sent_metadata', mac, imageName, sha256 });
    if (img === image) history.append({ type: 'device_sent_metadata', mac, imageName, sha256 });
    if (opts.pipelineEvents) {
      history.append({ type: 'pipeline_committed', mac, imageName: img.storedName, imageId: img.imageId });
      history.append({ type: 'pipeline_acked', mac, imageName });
    }
    history.append({ type: 'ack_observed', mac, imageName, sha256, storedComplete: true });
    history.append({ type: 'device_dequeued', mac, imageName, sha256 });
  }
  history.append({ type: 'run_phase', phase: 'end' });
  for (const mac of world.devices.keys()) history.append({ type: 'device_final', mac, queued: [] });
  return { world, history, image };
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
    expect(v.summary).toContain('2 captures re-announced (2 after stored complete');
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
    expect(v.offending[0]).toMatchObject({
      mac: '98A316F82928',
      definiteReannouncements: 1,
      logRows: 0,
      problems: ['1 re-announcements after it was stored complete but 0 duplicate_images_log rows'],
    });
  });

  test('a re-announcement a restart may have lost on its way needs no row (the restart came right after it)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    reannounce(history, imageOf(world, 2));
    history.append({ type: 'nemesis', fault: 'pipeline_restart', target: 'pipeline' });
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('pass');
    reannounce(history, imageOf(world, 2)); // once the restart is behind it, a re-announcement must be logged
    expect((await checkDuplicatesLogged(client(), runFacts(history.events))).verdict).toBe('fail');
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

  test('fails on a log row without a re-announcement (the capture was announced once)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    await logDuplicate(client(), imageOf(world, 1));
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({
        imageName: 'image_2.jpg',
        logRows: 1,
        problems: ['1 duplicate_images_log rows, but the device announced it only once'],
      }),
    ]);
    // With two pipeline instances, the slower one may see the only send after the other committed: explained.
    history.append({ type: 'nemesis', fault: 'two_instances', target: 'pipeline' });
    expect((await checkDuplicatesLogged(client(), runFacts(history.events))).verdict).toBe('pass');
  });

  test('fails on a log row that matches no capture of the device (another capture timestamp)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 2);
    await logDuplicate(client(), image, { ...metadataOf(image), timestamp: '2026-02-01T00:00:00Z' });
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({ mac: '98A316F82928', problem: expect.stringContaining('no capture') }),
    ]);
  });

  test('fails when two re-announcements left one log row; passes with one row each', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 0);
    reannounce(history, image);
    reannounce(history, image);
    await logDuplicate(client(), image);
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({
      definiteReannouncements: 2,
      logRows: 1,
      problems: ['2 re-announcements after it was stored complete but 1 duplicate_images_log rows'],
    });
    await logDuplicate(client(), image);
    expect((await checkDuplicatesLogged(client(), runFacts(history.events))).verdict).toBe('pass');
  });

  test('two log rows for one re-announcement fail, unless a fault could deliver the message twice', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 3);
    reannounce(history, image);
    await logDuplicate(client(), image);
    await logDuplicate(client(), image);
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({
      problems: ['2 duplicate_images_log rows for at most 1 re-announcements'],
    });
    history.append({ type: 'nemesis', fault: 'duplicate', target: 'camfleet-pipeline-1', detail: 'ESP32CAM/x/data' });
    expect((await checkDuplicatesLogged(client(), runFacts(history.events))).verdict).toBe('pass');
  });

  test("the pipeline's name-reuse records are not re-announcements", async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const newer = imageOf(world, 3);
    // logged against the older row of the name, describing the new capture (harness/pipeline/store/images.ts)
    await logDuplicate(client(), imageOf(world, 0), { ...metadataOf(newer), camfleet_event: 'name_reuse' });
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v).toMatchObject({ verdict: 'pass', summary: '0 re-announcements' });
  });

  test('a send before the commit: unknown without pipeline events; the pipeline reports decide it', async () => {
    const noEvents = await doubleSentWorld(client(), 1, { pipelineEvents: false });
    const v = await checkDuplicatesLogged(client(), runFacts(noEvents.history.events));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('1 sends before it was known complete, 0 logged');

    // The pipeline handled the second send before the commit (no report): nothing to log.
    const { history, image } = await doubleSentWorld(client(), 1, { pipelineEvents: true });
    expect((await checkDuplicatesLogged(client(), runFacts(history.events))).verdict).toBe('pass');
    // It reports logging it, but no row exists: fail.
    history.append({ type: 'pipeline_duplicate_logged', mac: image.record.mac, imageName: image.record.imageName });
    const w = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(w.verdict).toBe('fail');
    expect(w.offending[0]).toMatchObject({ possibleReannouncements: 1, logRows: 0 });
    await logDuplicate(client(), image);
    expect((await checkDuplicatesLogged(client(), runFacts(history.events))).verdict).toBe('pass');
  });

  test('a send before the commit that created a second row fails, whenever it arrived', async () => {
    const { history, image } = await doubleSentWorld(client(), 0, { pipelineEvents: true });
    // taken for a new capture and stored under another name (the unique key allows that)
    await insertImage(
      client(),
      { ...image, storedName: 'image_1~dup.jpg' },
      { imageId: crypto.randomUUID(), status: 'receiving', receivedChunks: 0 },
    );
    const v = await checkDuplicatesLogged(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending[0]).toMatchObject({
      definiteReannouncements: 0,
      possibleReannouncements: 1,
      problems: ['2 image rows hold this capture, expected 1'],
    });
  });
});
