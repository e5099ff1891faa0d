// Bad input never crashes the pipeline and never changes a stored image (PROTOCOL.md §2–3; the shared invalid
// fixtures). Each case: the message is rejected with its code, recorded in rejected_messages, appended to the
// history — and afterwards the pipeline still completes a valid image and the stored image is byte-for-byte intact.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeDeviceMessage } from '../../simulator/protocol/index.ts';
import { fixture } from '../../simulator/protocol/test-fixtures.ts';
import type { History } from '../history/history.ts';
import type { Pipeline } from './index.ts';
import {
  imagesOf,
  makeImage,
  newHistory,
  nextMac,
  openTestWorld,
  rejectionsOf,
  TestDevice,
  until,
  type ImageRowView,
  type TestWorld,
} from './test-support.ts';

const VICTIM = 'B8F862F9C1C4'; // the MAC of the shared fixtures

let world: TestWorld;
let pipeline: Pipeline;
let history: History;
let victim: TestDevice;
let helper: TestDevice;
let stored: ImageRowView;
let updatedAt: string;
let serial = 100;

beforeAll(async () => {
  world = await openTestWorld('pipeline_bad_input');
  history = newHistory();
  // Wide filters, so messages on unknown topics reach the pipeline and can be recorded.
  pipeline = await world.pipeline({ history, subscriptions: ['ESP32CAM/#', 'device/#'] });
  victim = await TestDevice.connect(world.broker.url, VICTIM);
  helper = await TestDevice.connect(world.broker.url, nextMac('D00D00'));
  const img = makeImage(42, 10_000, 'image_3.jpg');
  await victim.sendImage(img);
  await victim.waitForAck('image_3.jpg');
  [stored] = (await imagesOf(world.db, VICTIM)) as [ImageRowView];
  updatedAt = await victimUpdatedAt();
});

afterAll(async () => {
  await victim?.end();
  await helper?.end();
  await world?.close();
});

async function victimUpdatedAt(): Promise<string> {
  const { rows } = await world.db.query<{ u: string }>(
    `SELECT updated_at::text AS u FROM device_images WHERE image_id = $1`,
    [stored.image_id],
  );
  return rows[0]!.u;
}

/** Publishes one bad message and checks: rejected with `code`, recorded, in the history; still serving; intact. */
async function expectRejected(
  publish: () => Promise<void>,
  code: string,
  mac: string | null = VICTIM,
  thenServing = true,
): Promise<void> {
  const before = pipeline.stats().rejections[code] ?? 0;
  const recordedBefore = (await rejectionsOf(world.db)).filter((r) => r.code === code).length;
  await publish();
  await until(() => (pipeline.stats().rejections[code] ?? 0) > before, 5000, `a ${code} rejection`);
  await pipeline.idle();
  const recorded = (await rejectionsOf(world.db)).filter((r) => r.code === code);
  expect(recorded.length).toBeGreaterThan(recordedBefore);
  const row = recorded.at(-1)!;
  expect(row.device_mac).toBe(mac);
  expect(row.reason.length).toBeGreaterThan(0);
  expect(row.payload_bytes).toBeGreaterThanOrEqual(0);
  expect(row.payload_excerpt.length).toBeLessThanOrEqual(200);
  expect(history.ofType('pipeline_rejected').some((e) => e.code === code)).toBe(true);
  if (thenServing) await expectStillServing();
}

async function expectStillServing(): Promise<void> {
  const img = makeImage(serial, 3000, `image_${serial}.jpg`);
  serial++;
  await helper.sendImage(img);
  await helper.waitForAck(img.name);
  const [now] = await imagesOf(world.db, VICTIM);
  expect(now).toEqual(stored);
  expect(await victimUpdatedAt()).toBe(updatedAt);
}

function publishFixture(name: string): () => Promise<void> {
  const f = fixture('invalid', name);
  return () => victim.publishRaw(f.topic, f.payload);
}

describe('the shared invalid fixtures', () => {
  test.each([
    ['not-json', 'not_json', VICTIM],
    ['bad-mac-topic', 'bad_device_id', null],
    ['chunk-bad-base64', 'bad_base64', VICTIM],
    ['chunk-negative-id', 'chunk_id_out_of_range', VICTIM],
    ['mac-mismatch', 'device_id_mismatch', VICTIM],
    ['metadata-absurd-total', 'total_chunks_absurd', VICTIM],
    ['metadata-size-mismatch', 'size_chunks_mismatch', VICTIM],
    ['path-traversal-name', 'bad_image_name', VICTIM],
    ['unknown-topic', 'unknown_topic', null],
  ] as const)('%s → %s', async (name, code, mac) => {
    await expectRejected(publishFixture(name), code, mac);
  });
});

describe('stateful and size checks', () => {
  test('smart quotes are accepted (the original server repaired them)', async () => {
    const f = fixture('valid', 'hello-smart-quotes');
    const mark = victim.received.length;
    await victim.publishRaw(f.topic, f.payload);
    await victim.waitFor((m) => m.kind === 'capture_image' || m.kind === 'send_all_pending', 5000, mark);
    await expectStillServing();
  });

  test('chunk before metadata → chunk_before_metadata', async () => {
    const img = makeImage(7, 2000, 'image_77.jpg');
    await expectRejected(() => victim.chunks(img, [0]), 'chunk_before_metadata');
  });

  test('chunk_id ≥ total_chunk_count of its transfer → chunk_id_out_of_range', async () => {
    const img = makeImage(8, 3000, 'image_78.jpg');
    await victim.metadata(img);
    const wire = encodeDeviceMessage(
      { kind: 'chunk', device_id: VICTIM, image_name: 'image_78.jpg', chunk_id: 3, payload: new Uint8Array(1024) },
      'fw350',
    );
    await expectRejected(() => victim.publishRaw(wire.topic, wire.payload), 'chunk_id_out_of_range');
  });

  test('wrong payload length for its position → bad_field', async () => {
    const img = makeImage(9, 3000, 'image_79.jpg');
    await victim.metadata(img);
    const wire = encodeDeviceMessage(
      { kind: 'chunk', device_id: VICTIM, image_name: 'image_79.jpg', chunk_id: 0, payload: new Uint8Array(1000) },
      'fw350',
    );
    await expectRejected(() => victim.publishRaw(wire.topic, wire.payload), 'bad_field');
  });

  test('total_chunk_count changing between metadata of the same capture → total_chunks_changed', async () => {
    const img = makeImage(10, 10_000, 'image_80.jpg');
    await victim.metadata(img); // 10 chunks of 1024
    await expectRejected(
      () => victim.metadata(img, { max_chunk_size: 2000, total_chunk_count: 5 }),
      'total_chunks_changed',
    );
  });

  test('an image larger than the database can hold (3 GB in 3,000 chunks of 1 MB) → bad_field', async () => {
    const img = makeImage(13, 3000, 'image_81.jpg');
    await expectRejected(
      () => victim.metadata(img, { image_size: 3_000_000_000, max_chunk_size: 1_000_000, total_chunk_count: 3000 }),
      'bad_field',
    );
  });

  test('oversized payload (> 64 KiB) → payload_too_large', async () => {
    const body = JSON.stringify({
      device_id: VICTIM,
      image_name: 'image_3.jpg',
      chunk_id: 0,
      payload: 'A'.repeat(70_000),
    });
    await expectRejected(() => victim.publishRaw(`ESP32CAM/${VICTIM}/data`, body), 'payload_too_large');
  });

  test('binary garbage (invalid UTF-8) → not_json', async () => {
    await expectRejected(
      () => victim.publishRaw(`ESP32CAM/${VICTIM}/data`, Buffer.from([0xff, 0xfe, 0x00, 0x7b])),
      'not_json',
    );
  });

  test('a chunk with other bytes for a stored image changes nothing (not even a rejection)', async () => {
    const rejected = pipeline.stats().rejected;
    const duplicates = pipeline.stats().chunksDuplicate;
    const wire = encodeDeviceMessage(
      {
        kind: 'chunk',
        device_id: VICTIM,
        image_name: 'image_3.jpg',
        chunk_id: 0,
        payload: new Uint8Array(1024).fill(7),
      },
      'fw350',
    );
    await victim.publishRaw(wire.topic, wire.payload);
    await until(() => pipeline.stats().chunksDuplicate > duplicates, 5000, 'the chunk to be seen');
    expect(pipeline.stats().rejected).toBe(rejected);
    await expectStillServing();
  });

  test('our own replies under a wide subscription are not rejected', () => {
    expect(pipeline.stats().rejections.unknown_topic).toBe(1); // only the fixture's /firmware topic
  });
});

describe('failures inside the pipeline', () => {
  test('an exception inside a handler (database refuses the write) → internal_error, then it recovers', async () => {
    await world.db.query('ALTER TABLE image_transfers ADD CONSTRAINT camfleet_test_fault CHECK (false) NOT VALID');
    const img = makeImage(11, 4000, 'image_90.jpg');
    try {
      await expectRejected(() => victim.metadata(img), 'internal_error', VICTIM, false);
    } finally {
      await world.db.query('ALTER TABLE image_transfers DROP CONSTRAINT camfleet_test_fault');
    }
    await expectStillServing();
    const mark = victim.received.length;
    await victim.sendImage(img);
    await victim.waitForAck('image_90.jpg', 5000, mark);
  });

  test('chunk writes failing on every retry: nothing lost silently — missing chunks are asked for and recovered', async () => {
    const device = await TestDevice.connect(world.broker.url, nextMac('FA17ED'));
    try {
      await world.db.query('ALTER TABLE image_chunks ADD CONSTRAINT camfleet_test_fault CHECK (false) NOT VALID');
      const img = makeImage(12, 6000, 'image_1.jpg');
      const failedBefore = pipeline.stats().flushesFailed;
      try {
        await device.sendImage(img);
        await until(() => pipeline.stats().flushesFailed > failedBefore, 5000, 'a failed flush');
      } finally {
        await world.db.query('ALTER TABLE image_chunks DROP CONSTRAINT camfleet_test_fault');
      }
      const request = await device.waitFor((m) => m.kind === 'missing_chunks', 5000);
      const ids = request.message?.kind === 'missing_chunks' ? request.message.missing_chunks : [];
      expect(ids.length).toBeGreaterThan(0);
      await device.chunks(img, ids);
      await device.waitForAck('image_1.jpg', 5000);
      const [row] = await imagesOf(world.db, device.mac);
      expect(row).toMatchObject({ status: 'complete', received_chunks: 6, blob_sha256: img.sha256 });
      expect(world.logs.some((l) => l.includes('could not be written'))).toBe(true);
    } finally {
      await device.end();
    }
  });

  test('the pipeline is still up after all of it', async () => {
    await expectStillServing();
    expect(pipeline.stats().rejected).toBe(history.ofType('pipeline_rejected').length);
  });
});
