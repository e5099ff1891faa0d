// The reference pipeline end to end on real Postgres and a real aedes broker: a scripted device drives it.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { parseWakeTime } from '../../simulator/protocol/index.ts';
import {
  imagesOf,
  makeImage,
  newHistory,
  nextMac,
  openTestWorld,
  rowWhenAckArrives,
  settled,
  TestDevice,
  until,
  type TestWorld,
} from './test-support.ts';

let world: TestWorld;

beforeAll(async () => {
  world = await openTestWorld('pipeline_flow');
});
afterEach(async () => {
  await world?.stopPipelines();
});
afterAll(async () => {
  await world?.close();
});

describe('happy path', () => {
  test('HELLO → capture_image; metadata + chunks → one complete row, identical bytes, ACK_OK after commit', async () => {
    const history = newHistory();
    const pipeline = await world.pipeline({ history });
    const mac = nextMac();
    const device = await TestDevice.connect(world.broker.url, mac);
    try {
      await device.hello(0, []);
      await device.waitFor((m) => m.kind === 'capture_image');
      const img = makeImage(1, 70_959, 'image_1.jpg');
      const atAck = rowWhenAckArrives(device, world.db, 'image_1.jpg');
      await device.sendImage(img);
      const ack = await device.waitForAck('image_1.jpg');
      expect(ack.topic).toBe(`ESP32CAM/${mac}/ack`);
      expectDurableAtAck(await atAck);
      expect(ack.message?.kind === 'ack_ok' && parseWakeTime(ack.message.next_wake_time ?? '')).toBeTruthy();

      const rows = await imagesOf(world.db, mac);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row).toMatchObject({
        image_name: 'image_1.jpg',
        status: 'complete',
        received_chunks: 70,
        total_chunks: 70,
        image_size: 70_959,
        image_url: `camfleet-blob://image_blobs/${row.image_id}`,
        blob_sha256: img.sha256,
        stored_sha256: img.sha256,
      });
      expect(row.metadata).toMatchObject({
        image_name: 'image_1.jpg',
        timestamp: '2026-01-14T10:00:00Z',
        temperature_f: 72.5,
        captured_at_source: 'device',
        dialect: 'fw350',
      });

      const device_ = await world.db.query(
        'SELECT device_code, provisioning_status, is_active, firmware_version, last_seen_at, next_wake_at FROM devices WHERE device_mac = $1',
        [mac],
      );
      expect(device_.rows[0]).toMatchObject({
        provisioning_status: 'pending_mapping',
        is_active: false,
        firmware_version: '3.5.0',
      });
      expect(device_.rows[0].device_code).toMatch(/^DEVICE-ESP32S3-\d{3,}$/);
      expect(device_.rows[0].next_wake_at).not.toBeNull();

      await pipeline.idle();
      const committed = history.ofType('pipeline_committed');
      const acked = history.ofType('pipeline_acked');
      expect(committed).toEqual([expect.objectContaining({ mac, imageName: 'image_1.jpg', imageId: row.image_id })]);
      expect(acked).toEqual([expect.objectContaining({ mac, imageName: 'image_1.jpg' })]);
      expect(acked[0]!.seq).toBeGreaterThan(committed[0]!.seq);
      const stats = pipeline.stats();
      expect(stats).toMatchObject({
        hellos: 1,
        metadata: 1,
        chunksReceived: 70,
        chunksStored: 70,
        imagesCompleted: 1,
        acksSent: 1,
        rejected: 0,
      });
    } finally {
      await device.end();
      await pipeline.stop();
    }
  });
});

/** ACK_OK after commit (I7): the row the device's ACK handler read is already complete. */
function expectDurableAtAck(row: Awaited<ReturnType<typeof rowWhenAckArrives>>): void {
  expect(row).toMatchObject({ status: 'complete', received_chunks: row?.total_chunks });
}

describe('ACK ordering', () => {
  test('the row-at-ACK check catches a pipeline that publishes ACK_OK before it commits', async () => {
    const device = await TestDevice.connect(world.broker.url, nextMac());
    const atAck = rowWhenAckArrives(device, world.db, 'image_1.jpg');
    // The broken pipeline commits only once the device has read the row: the order is fixed, not a race.
    const pipeline = await world.pipeline({ ackBeforeCommitForTest: () => atAck.then(() => undefined) });
    try {
      const img = makeImage(2, 8_000, 'image_1.jpg');
      await device.sendImage(img);
      await device.waitForAck('image_1.jpg');
      const row = await atAck;
      expect(row).toMatchObject({ status: 'receiving', received_chunks: 8 });
      expect(() => expectDurableAtAck(row)).toThrow();
      await pipeline.idle();
      expect((await imagesOf(world.db, device.mac))[0]).toMatchObject({ status: 'complete' }); // committed after
    } finally {
      await device.end();
      await pipeline.stop();
    }
  });
});

describe('HELLO', () => {
  test('pending images → send_all_pending (and no capture), in the dialect the device spoke', async () => {
    const pipeline = await world.pipeline();
    const fw = await TestDevice.connect(world.broker.url, nextMac());
    const spec = await TestDevice.connect(world.broker.url, nextMac(), 'spec');
    try {
      await fw.hello(2, ['image_3.jpg', 'image_4.jpg']);
      const r1 = await fw.waitFor((m) => m.kind === 'send_all_pending');
      expect(r1.topic).toBe(`ESP32CAM/${fw.mac}/cmd`);
      await spec.hello(0, ['image_9.jpg']); // a list without a count still means pending
      const r2 = await spec.waitFor((m) => m.kind === 'send_all_pending');
      expect(r2.topic).toBe(`device/${spec.mac}/cmd`);
      await pipeline.idle();
      expect(fw.received.some((r) => r.message?.kind === 'capture_image')).toBe(false);
      expect(spec.received.some((r) => r.message?.kind === 'capture_image')).toBe(false);
    } finally {
      await fw.end();
      await spec.end();
      await pipeline.stop();
    }
  });
});

describe('spec dialect', () => {
  test('device/<id>/… topics, spec field names, 1-based chunk ids: end to end, missing_chunks on /cmd', async () => {
    const pipeline = await world.pipeline({ chunkIdBase: 1 });
    const device = await TestDevice.connect(world.broker.url, nextMac(), 'spec', 1);
    try {
      await device.hello();
      await device.waitFor((m) => m.kind === 'capture_image');
      const img = makeImage(2, 20_000, 'image_1.jpg', '2026-2-3 4:5:6');
      await device.sendImage(img, [0, 19]);
      const missing = await device.waitFor((m) => m.kind === 'missing_chunks');
      expect(missing.topic).toBe(`device/${device.mac}/cmd`);
      expect(JSON.parse(missing.payload)).toEqual({ image_name: 'image_1.jpg', missing_chunks: [1, 20] }); // wire ids
      expect(missing.message).toMatchObject({ missing_chunks: [0, 19] });
      await device.chunks(img, [0, 19]);
      const ack = await device.waitForAck('image_1.jpg');
      expect(ack.topic).toBe(`device/${device.mac}/ack`);
      const [row] = await imagesOf(world.db, device.mac);
      expect(row).toMatchObject({ status: 'complete', received_chunks: 20, blob_sha256: img.sha256 });
      expect(row!.metadata).toMatchObject({
        dialect: 'spec',
        timestamp: '2026-2-3 4:5:6',
        captured_at_source: 'device',
      });
    } finally {
      await device.end();
      await pipeline.stop();
    }
  });
});

describe('resume', () => {
  test('half the chunks, pipeline restart, metadata again + the rest → same row, progress kept, complete', async () => {
    const mac = nextMac();
    const device = await TestDevice.connect(world.broker.url, mac);
    const img = makeImage(3, 70_959, 'image_5.jpg');
    const first = await world.pipeline();
    await device.sendImage(
      img,
      img.chunks.map((_, i) => i).filter((i) => i >= 35),
    );
    await settled(first, 36);
    const before = await imagesOf(world.db, mac);
    expect(before).toMatchObject([{ status: 'receiving', received_chunks: 35, total_chunks: 70 }]);
    await first.stop();

    const second = await world.pipeline();
    try {
      await device.metadata(img);
      await settled(second, 1);
      const resumed = await imagesOf(world.db, mac);
      expect(resumed).toMatchObject([{ image_id: before[0]!.image_id, status: 'receiving', received_chunks: 35 }]);
      await device.chunks(
        img,
        img.chunks.map((_, i) => i).filter((i) => i >= 30),
      ); // overlaps 30..34
      await device.waitForAck('image_5.jpg');
      const after = await imagesOf(world.db, mac);
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({
        image_id: before[0]!.image_id,
        status: 'complete',
        received_chunks: 70,
        blob_sha256: img.sha256,
      });
      expect(second.stats()).toMatchObject({ chunksStored: 35, chunksDuplicate: 5, rejected: 0 });
    } finally {
      await device.end();
      await second.stop();
    }
  });

  test('after a restart, chunks without new metadata still find their image (image_transfers)', async () => {
    const mac = nextMac();
    const device = await TestDevice.connect(world.broker.url, mac);
    const img = makeImage(4, 10_000, 'image_2.jpg');
    const first = await world.pipeline();
    await device.sendImage(img, [5, 6, 7, 8, 9]);
    await settled(first, 6);
    await first.stop();
    const second = await world.pipeline();
    try {
      await device.chunks(img, [5, 6, 7, 8, 9]);
      await device.waitForAck('image_2.jpg');
      expect(await imagesOf(world.db, mac)).toMatchObject([
        { status: 'complete', received_chunks: 10, blob_sha256: img.sha256 },
      ]);
      expect(second.stats().rejected).toBe(0);
    } finally {
      await device.end();
      await second.stop();
    }
  });

  test('all chunks stored but never completed (stopped in between) → metadata completes it at once', async () => {
    const mac = nextMac();
    const device = await TestDevice.connect(world.broker.url, mac);
    const img = makeImage(5, 5000, 'image_3.jpg');
    const pipeline = await world.pipeline();
    try {
      await device.sendImage(img);
      await device.waitForAck('image_3.jpg');
      // Simulate the crash window between the last chunk write and the completion commit.
      const [row] = await imagesOf(world.db, mac);
      await world.db.query(`UPDATE device_images SET status = 'receiving' WHERE image_id = $1`, [row!.image_id]);
      await world.db.query('DELETE FROM image_blobs WHERE image_id = $1', [row!.image_id]);
      await pipeline.stop();
      const second = await world.pipeline();
      const mark = device.received.length;
      await device.metadata(img);
      await device.waitForAck('image_3.jpg', 5000, mark);
      expect(await imagesOf(world.db, mac)).toMatchObject([
        { status: 'complete', received_chunks: 5, blob_sha256: img.sha256 },
      ]);
      await second.stop();
    } finally {
      await device.end();
      await pipeline.stop();
    }
  });
});

describe('re-sends and name reuse', () => {
  test('re-send of a complete image → duplicate_images_log row, no new row, ACK_OK again', async () => {
    const history = newHistory();
    const pipeline = await world.pipeline({ history });
    const mac = nextMac();
    const device = await TestDevice.connect(world.broker.url, mac);
    try {
      const img = makeImage(6, 8000, 'image_7.jpg');
      await device.sendImage(img);
      await device.waitForAck('image_7.jpg');
      const mark = device.received.length;
      await device.sendImage(img); // the ACK was "lost": the firmware sends it again
      await device.waitForAck('image_7.jpg', 5000, mark);
      await pipeline.idle();
      const rows = await imagesOf(world.db, mac);
      expect(rows).toHaveLength(1);
      const log = await world.db.query(
        `SELECT l.image_id::text, l.image_name, l.duplicate_metadata FROM duplicate_images_log l
         JOIN devices d ON d.device_id = l.device_id WHERE d.device_mac = $1`,
        [mac],
      );
      expect(log.rows).toEqual([
        expect.objectContaining({
          image_id: rows[0]!.image_id,
          image_name: 'image_7.jpg',
          duplicate_metadata: expect.objectContaining({ timestamp: img.timestamp }),
        }),
      ]);
      expect(history.ofType('pipeline_duplicate_logged')).toHaveLength(1);
      expect(pipeline.stats()).toMatchObject({
        duplicatesLogged: 1,
        imagesCompleted: 1,
        acksSent: 2,
        chunksDuplicate: 8,
        rejected: 0,
      });
    } finally {
      await device.end();
      await pipeline.stop();
    }
  });

  test('flash-counter reset: a new capture under an old name gets a disambiguated row; both blobs intact', async () => {
    const pipeline = await world.pipeline();
    const mac = nextMac();
    const device = await TestDevice.connect(world.broker.url, mac);
    try {
      const old = makeImage(7, 9000, 'image_1.jpg', '2026-01-14T10:00:00Z');
      const fresh = makeImage(8, 12_345, 'image_1.jpg', '2026-01-20T08:30:00Z');
      await device.sendImage(old);
      await device.waitForAck('image_1.jpg');
      const mark = device.received.length;
      await device.sendImage(fresh);
      await device.waitForAck('image_1.jpg', 5000, mark);
      // And the new capture re-sent after a lost ACK is a duplicate of the disambiguated row, not a third row.
      const mark2 = device.received.length;
      await device.sendImage(fresh);
      await device.waitForAck('image_1.jpg', 5000, mark2);
      await pipeline.idle();
      const rows = await imagesOf(world.db, mac);
      expect(rows.map((r) => [r.image_name, r.status, r.blob_sha256])).toEqual([
        ['image_1.jpg', 'complete', old.sha256],
        ['image_1~20260120083000.jpg', 'complete', fresh.sha256],
      ]);
      expect(rows[1]!.metadata).toMatchObject({
        image_name: 'image_1.jpg',
        timestamp: fresh.timestamp,
        stored_name: 'image_1~20260120083000.jpg',
      });
      const log = await world.db.query(
        `SELECT l.image_id::text, l.duplicate_metadata ->> 'camfleet_event' AS event FROM duplicate_images_log l
         JOIN devices d ON d.device_id = l.device_id WHERE d.device_mac = $1 ORDER BY l.created_at`,
        [mac],
      );
      expect(log.rows).toEqual([
        { image_id: rows[0]!.image_id, event: 'name_reuse' },
        { image_id: rows[1]!.image_id, event: null },
      ]);
      expect(pipeline.stats()).toMatchObject({ namesReused: 1, imagesCompleted: 2, duplicatesLogged: 1, rejected: 0 });
    } finally {
      await device.end();
      await pipeline.stop();
    }
  });
});

describe('missing chunks', () => {
  test('drop chunks 4 and 9 → the pipeline asks for exactly [4, 9] → resent → complete', async () => {
    const history = newHistory();
    const pipeline = await world.pipeline({ history });
    const mac = nextMac();
    const device = await TestDevice.connect(world.broker.url, mac);
    try {
      const img = makeImage(9, 15_000, 'image_3.jpg');
      await device.sendImage(img, [4, 9]);
      const req = await device.waitFor((m) => m.kind === 'missing_chunks');
      expect(req.topic).toBe(`ESP32CAM/${mac}/ack`); // fw350: on /ack, as the Jan 2026 service did
      expect(JSON.parse(req.payload)).toEqual({ image_name: 'image_3.jpg', missing_chunks: [4, 9] });
      await device.chunks(img, [4, 9]);
      await device.waitForAck('image_3.jpg');
      expect(await imagesOf(world.db, mac)).toMatchObject([
        { status: 'complete', received_chunks: 15, blob_sha256: img.sha256 },
      ]);
      expect(history.ofType('pipeline_missing_requested')).toEqual([
        expect.objectContaining({ mac, imageName: 'image_3.jpg', chunkIds: [4, 9] }),
      ]);
    } finally {
      await device.end();
      await pipeline.stop();
    }
  });

  test('a silent device is asked at most missingChunksRequestsMax times', async () => {
    const pipeline = await world.pipeline({ missingChunksIdleMs: 60, missingChunksRequestsMax: 2 });
    const device = await TestDevice.connect(world.broker.url, nextMac());
    try {
      const img = makeImage(10, 3000, 'image_4.jpg');
      await device.sendImage(img, [1]);
      await until(() => pipeline.stats().missingRequests >= 2, 3000, 'two requests');
      await new Promise((r) => setTimeout(r, 400));
      expect(pipeline.stats().missingRequests).toBe(2);
      expect(device.received.filter((r) => r.message?.kind === 'missing_chunks')).toHaveLength(2);
    } finally {
      await device.end();
      await pipeline.stop();
    }
  });
});

describe('provisioning', () => {
  test('many new devices at once get distinct codes, the first free numbers', async () => {
    const w = await openTestWorld('pipeline_provision');
    try {
      await w.db.query(`INSERT INTO devices (device_mac, device_code) VALUES ('AAAAAAAAAAAA', 'DEVICE-ESP32S3-002')`);
      const pipeline = await w.pipeline();
      const devices = await Promise.all(
        Array.from({ length: 12 }, () => TestDevice.connect(w.broker.url, nextMac('C0FFEE'))),
      );
      await Promise.all(devices.map((d) => d.hello()));
      await Promise.all(devices.map((d) => d.waitFor((m) => m.kind === 'capture_image')));
      const { rows } = await w.db.query<{ device_code: string }>(
        'SELECT device_code FROM devices ORDER BY device_code',
      );
      const expected = [1, ...Array.from({ length: 12 }, (_, i) => i + 2)].map(
        (n) => `DEVICE-ESP32S3-${String(n).padStart(3, '0')}`,
      );
      expect(rows.map((r) => r.device_code).sort()).toEqual(expected.sort());
      expect(pipeline.stats().devicesProvisioned).toBe(12);
      await Promise.all(devices.map((d) => d.end()));
    } finally {
      await w.close();
    }
  });
});

describe('two pipeline instances at once', () => {
  test('both see every message: still one row per image, complete and intact, acknowledged', async () => {
    const a = await world.pipeline();
    const b = await world.pipeline();
    const device = await TestDevice.connect(world.broker.url, nextMac());
    try {
      const images = [makeImage(21, 30_000, 'image_1.jpg'), makeImage(22, 25_000, 'image_2.jpg')];
      for (const img of images) {
        await device.sendImage(img);
        await device.waitForAck(img.name);
      }
      await settled(a, 2 + 30 + 25);
      await settled(b, 2 + 30 + 25);
      const rows = await imagesOf(world.db, device.mac);
      expect(rows.map((r) => [r.image_name, r.status, r.received_chunks, r.blob_sha256])).toEqual([
        ['image_1.jpg', 'complete', 30, images[0]!.sha256],
        ['image_2.jpg', 'complete', 25, images[1]!.sha256],
      ]);
      expect(a.stats().chunksStored + b.stats().chunksStored).toBe(55);
    } finally {
      await device.end();
    }
  });
});
