// The corrupt-message fault against the reference pipeline (real Postgres, real aedes): each malformed kind is
// recorded in rejected_messages with the code the checker's I9 expects, and the real transfer around it is stored
// whole.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { checkMalformedRecorded } from '../checker/i9-malformed-recorded.ts';
import { runFacts } from '../checker/run-facts.ts';
import { corruptKinds, corruptMessage } from '../nemesis/corrupt-message.ts';
import {
  imagesOf,
  makeImage,
  newHistory,
  nextMac,
  openTestWorld,
  rejectionsOf,
  TestDevice,
  type TestWorld,
} from './test-support.ts';

let world: TestWorld;

beforeAll(async () => {
  world = await openTestWorld('pipeline_corrupt');
});
afterEach(async () => {
  await world?.stopPipelines();
});
afterAll(async () => {
  await world?.close();
});

test('every corrupt kind is recorded with its code (I9 passes) and the image around them is stored whole', async () => {
  const pipeline = await world.pipeline();
  const device = await TestDevice.connect(world.broker.url, nextMac());
  const history = newHistory();
  try {
    const img = makeImage(9, 9_000, 'image_1.jpg');
    const metadata = device.metadataOf(img);
    await device.metadata(img);
    for (const kind of corruptKinds) {
      const m = corruptMessage(kind, metadata, 'fw350');
      await device.publishRaw(m.topic, m.payload);
      history.append({
        type: 'device_sent_malformed',
        mac: device.mac,
        topic: m.topic,
        kind,
        expectedCode: m.expectedCode,
      });
    }
    await device.chunks(img);
    await device.waitForAck('image_1.jpg');
    await pipeline.idle();

    const codes = (await rejectionsOf(world.db)).filter((r) => r.device_mac === device.mac).map((r) => r.code);
    expect(codes.sort()).toEqual(['bad_base64', 'device_id_mismatch', 'not_json']);
    expect(await imagesOf(world.db, device.mac)).toEqual([
      expect.objectContaining({ status: 'complete', received_chunks: 9, blob_sha256: img.sha256 }),
    ]);
    const v = await checkMalformedRecorded(world.db, runFacts(history.events));
    expect(v).toMatchObject({ verdict: 'pass' });

    // The same check fails for a malformed message the pipeline never saw recorded (here: never sent at all).
    history.append({
      type: 'device_sent_malformed',
      mac: device.mac,
      topic: `ESP32CAM/${device.mac}/data`,
      kind: 'truncated_json',
      expectedCode: 'not_json',
    });
    expect((await checkMalformedRecorded(world.db, runFacts(history.events))).verdict).toBe('fail');
  } finally {
    await device.end();
    await pipeline.stop();
  }
});
