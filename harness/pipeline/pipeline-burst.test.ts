// A burst like a fleet's wake (50 devices × 70 chunks, all at once): every image complete and intact, no chunk
// rejected, no duplicate row — and a time printed, to notice a throughput regression.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { imagesOf, makeImage, newHistory, nextMac, openTestWorld, TestDevice, type TestWorld } from './test-support.ts';

const DEVICES = 50;
const IMAGE_BYTES = 70_959; // 70 chunks (PROTOCOL.md §1: a real one)

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld('pipeline_burst');
});
afterAll(async () => {
  await world?.close();
});

test(`${DEVICES} devices × 70 chunks at once`, async () => {
  const history = newHistory();
  const pipeline = await world.pipeline({ history });
  const devices = await Promise.all(
    Array.from({ length: DEVICES }, () => TestDevice.connect(world.broker.url, nextMac('BEEF00'))),
  );
  const images = devices.map((_, i) => makeImage(1000 + i, IMAGE_BYTES, 'image_1.jpg'));
  try {
    const started = performance.now();
    await Promise.all(devices.map((d) => d.hello()));
    await Promise.all(devices.map((d) => d.waitFor((m) => m.kind === 'capture_image')));
    await Promise.all(devices.map((d, i) => d.sendImage(images[i]!)));
    await Promise.all(devices.map((d) => d.waitForAck('image_1.jpg', 20_000)));
    const seconds = (performance.now() - started) / 1000;
    await pipeline.idle();
    const stats = pipeline.stats();
    console.log(
      `[pipeline burst] ${DEVICES} devices × 70 chunks (${stats.chunksReceived} chunk messages) HELLO→last ACK in ${seconds.toFixed(2)} s ` +
        `(${Math.round(stats.chunksReceived / seconds)} chunks/s, in-process broker and devices)`,
    );
    expect(stats).toMatchObject({
      chunksReceived: DEVICES * 70,
      chunksStored: DEVICES * 70,
      imagesCompleted: DEVICES,
      rejected: 0,
    });
    for (const [i, d] of devices.entries()) {
      const rows = await imagesOf(world.db, d.mac);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'complete', received_chunks: 70, blob_sha256: images[i]!.sha256 });
    }
    // I7 from the pipeline's own events: every ack after its commit.
    const committedAt = new Map(history.ofType('pipeline_committed').map((e) => [e.mac, e.seq]));
    for (const a of history.ofType('pipeline_acked')) expect(a.seq).toBeGreaterThan(committedAt.get(a.mac)!);
  } finally {
    await Promise.all(devices.map((d) => d.end()));
  }
});
