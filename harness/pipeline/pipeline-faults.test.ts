// Server-side faults on the reference pipeline (ARCHITECTURE.md §4): a crash without drain (and a restart that
// resumes), two instances consuming the same messages, a broker restart, database connections killed.
import { Aedes } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startEmbeddedBroker } from '../world/broker.ts';
import {
  imagesOf,
  makeImage,
  nextMac,
  openTestWorld,
  rejectionsOf,
  TestDevice,
  until,
  type TestImage,
  type TestWorld,
} from './test-support.ts';

let world: TestWorld;

beforeAll(async () => {
  world = await openTestWorld('pipeline_faults');
});
afterEach(async () => {
  await world?.stopPipelines();
});
afterAll(async () => {
  await world?.close();
});

async function rowsNamed(db: pg.Pool, mac: string, name: string) {
  return (await imagesOf(db, mac)).filter((r) => r.image_name === name);
}

/** Answers the pipeline's missing_chunks requests for `img`, as the firmware does, until stopped. */
function answerMissing(d: TestDevice, img: TestImage): () => void {
  let seen = 0;
  const timer = setInterval(() => {
    for (; seen < d.received.length; seen++) {
      const m = d.received[seen]?.message;
      if (m?.kind === 'missing_chunks' && m.image_name === img.name) void d.chunks(img, m.missing_chunks);
    }
  }, 20);
  return () => clearInterval(timer);
}

/**
 * A device sends a whole 10-chunk image to a pipeline whose long flush interval keeps the chunks in its batcher,
 * and the pipeline crashes with them: the device has sent everything and waits for its ACK.
 */
async function sendWholeTransferThenCrash(imageSeed: number) {
  const first = await world.pipeline({ flushIntervalMs: 5_000 });
  const d = await TestDevice.connect(world.broker.url, nextMac());
  const img = makeImage(imageSeed, 10_000, 'image_1.jpg');
  try {
    await d.metadata(img);
    await until(async () => (await rowsNamed(world.db, d.mac, img.name)).length === 1, 5000, 'the row');
    await d.chunks(img);
    await until(() => first.stats().chunksReceived === 10, 5000, 'chunks at the first pipeline');
    await first.crash();
  } catch (error) {
    await d.end();
    throw error;
  }
  return { first, d, img };
}

test('a pipeline restarted mid-transfer takes the transfer over and asks for the lost chunks, with no re-announcement', async () => {
  const { d, img } = await sendWholeTransferThenCrash(62);
  try {
    // The chunks died in its batcher; the device has sent everything and waits for its ACK.
    const second = await world.pipeline({ missingChunksIdleMs: 200 });
    const stop = answerMissing(d, img);
    try {
      // No metadata again: only the restarted pipeline's own request brings the chunks back.
      await d.waitForAck(img.name, 8000);
    } finally {
      stop();
    }
    expect(second.stats().missingRequests).toBeGreaterThan(0);
    expect((await rowsNamed(world.db, d.mac, img.name))[0]).toMatchObject({ status: 'complete', received_chunks: 10 });
  } finally {
    await d.end();
  }
});

test('crash without drain loses only what was in memory: buffered chunks are re-asked for after the restart', async () => {
  const { first, d, img } = await sendWholeTransferThenCrash(61);
  try {
    expect(first.stats().chunksStored).toBe(0);
    expect((await rowsNamed(world.db, d.mac, img.name))[0]).toMatchObject({ status: 'receiving', received_chunks: 0 });
    await first.stop(); // resolves at once after a crash

    const second = await world.pipeline();
    const stop = answerMissing(d, img);
    try {
      // The device's next wake: the same metadata (resume) — nothing stored, so everything is asked for.
      await d.metadata(img);
      await d.waitForAck(img.name, 8000);
    } finally {
      stop();
    }
    await second.idle();
    expect(second.stats().missingRequests).toBeGreaterThan(0);
    expect((await rowsNamed(world.db, d.mac, img.name))[0]).toMatchObject({
      status: 'complete',
      received_chunks: 10,
      blob_sha256: img.sha256,
    });
  } finally {
    await d.end();
  }
});

/** ACKs owed to this device (the file's tests share one database). */
async function acksOwed(db: pg.Pool, mac: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM image_acks_owed WHERE device_mac = $1',
    [mac],
  );
  return rows[0]?.n ?? -1;
}

test('an ACK_OK the broker took is owed no more: image_acks_owed is empty once the device has its ACK', async () => {
  const p = await world.pipeline();
  const d = await TestDevice.connect(world.broker.url, nextMac());
  try {
    const img = makeImage(64, 6_000, 'image_1.jpg');
    await d.sendImage(img);
    await d.waitForAck(img.name, 8000);
    await p.idle();
    expect(await acksOwed(world.db, d.mac)).toBe(0);
  } finally {
    await d.end();
  }
});

test('a crash after the completion commit and before the ACK: the restarted pipeline sends the ACK it owed', async () => {
  const started: { first?: Awaited<ReturnType<typeof world.pipeline>> } = {};
  let crashed: Promise<void> | undefined;
  started.first = await world.pipeline({
    // The crash lands exactly between the commit and the publish of the ACK_OK.
    afterCompletionCommit: async () => {
      crashed ??= started.first?.crash();
      await crashed;
    },
  });
  const d = await TestDevice.connect(world.broker.url, nextMac());
  try {
    const img = makeImage(65, 6_000, 'image_1.jpg');
    await d.sendImage(img);
    await until(() => crashed !== undefined, 8000, 'the crash after the commit');
    await crashed;
    expect((await rowsNamed(world.db, d.mac, img.name))[0]).toMatchObject({ status: 'complete', received_chunks: 6 });
    expect(d.received.some((r) => r.message?.kind === 'ack_ok')).toBe(false);
    expect(await acksOwed(world.db, d.mac)).toBe(1);

    // No re-send: only the restarted pipeline's owed ACK can reach the device.
    const second = await world.pipeline();
    await d.waitForAck(img.name, 8000);
    await second.idle();
    expect(await acksOwed(world.db, d.mac)).toBe(0);
  } finally {
    await d.end();
  }
});

test('owed ACKs that are stale or whose route moved on are dropped at the start, not sent', async () => {
  const p = await world.pipeline();
  const d = await TestDevice.connect(world.broker.url, nextMac());
  try {
    const img = makeImage(66, 5_000, 'image_1.jpg');
    await d.sendImage(img);
    await d.waitForAck(img.name, 8000);
    await p.idle();
    const imageId = (await rowsNamed(world.db, d.mac, img.name))[0]?.image_id;
    // As if a crash had left two rows: one an hour old, one under a name whose route is another image's.
    await world.db.query(
      `INSERT INTO image_acks_owed (image_id, device_mac, wire_name, dialect, owed_since)
       VALUES ($1, $2, 'image_1.jpg', 'fw350', now() - interval '1 hour')`,
      [imageId, d.mac],
    );
    await p.crash();
    const from = d.received.length;
    const second = await world.pipeline();
    await second.idle();
    expect(await acksOwed(world.db, d.mac)).toBe(0);
    await world.db.query(
      `INSERT INTO image_acks_owed (image_id, device_mac, wire_name, dialect) VALUES ($1, $2, 'image_9.jpg', 'fw350')`,
      [imageId, d.mac],
    );
    await second.crash();
    const third = await world.pipeline();
    await third.idle();
    expect(await acksOwed(world.db, d.mac)).toBe(0);
    // Neither restart sent anything to the device.
    expect(d.received.slice(from).filter((r) => r.message?.kind === 'ack_ok')).toEqual([]);
  } finally {
    await d.end();
  }
});

test('two fixed instances consuming the same messages: one row per image, every image acknowledged', async () => {
  const logs: string[] = [];
  const a = await world.pipeline({ instanceTag: 'a', log: (l) => logs.push(l) });
  const b = await world.pipeline({ instanceTag: 'b', log: (l) => logs.push(l) });
  const devices = await Promise.all(Array.from({ length: 6 }, () => TestDevice.connect(world.broker.url, nextMac())));
  try {
    const images = [makeImage(71, 9_000, 'image_1.jpg'), makeImage(72, 7_000, 'image_2.jpg')];
    await Promise.all(
      devices.map(async (d) => {
        for (const img of images) {
          const from = d.received.length;
          await d.sendImage(img);
          await d.waitForAck(img.name, 8000, from);
        }
        // A re-send after a missed ACK, handled by both instances at once.
        const from = d.received.length;
        await d.sendImage(images[0]!);
        await d.waitForAck(images[0]!.name, 8000, from);
      }),
    );
    await Promise.all([a.idle(), b.idle()]);
    for (const d of devices) {
      const rows = await imagesOf(world.db, d.mac);
      expect(rows.map((r) => [r.image_name, r.status, r.received_chunks, r.blob_sha256])).toEqual([
        ['image_1.jpg', 'complete', 9, images[0]!.sha256],
        ['image_2.jpg', 'complete', 7, images[1]!.sha256],
      ]);
    }
    const internal = (await rejectionsOf(world.db)).filter((r) => r.code === 'internal_error');
    expect(internal).toEqual([]);
    expect(a.stats().imagesCompleted + b.stats().imagesCompleted).toBeGreaterThanOrEqual(12);
    expect(logs.some((l) => l.startsWith('pipeline[a]: profile fixed'))).toBe(true);
    expect(logs.some((l) => l.startsWith('pipeline[b]: profile fixed'))).toBe(true);
    const backends = await world.db.query<{ application_name: string }>(
      `SELECT DISTINCT application_name FROM pg_stat_activity WHERE application_name LIKE 'camfleet-pipeline-%'`,
    );
    const names = backends.rows.map((r) => r.application_name);
    expect(names.some((n) => n.startsWith('camfleet-pipeline-a-'))).toBe(true);
    expect(names.some((n) => n.startsWith('camfleet-pipeline-b-'))).toBe(true);
  } finally {
    await Promise.all(devices.map((d) => d.end()));
  }
});

test('broker restart: the pipeline reconnects, re-subscribes and keeps serving (a transfer spanning it completes)', async () => {
  const broker = await startEmbeddedBroker();
  const port = Number(new URL(broker.url).port);
  const logs: string[] = [];
  let restarted: { aedes: Aedes; server: Server; sockets: Set<Socket> } | undefined;
  const pipeline = await world.pipeline({ brokerUrl: broker.url, log: (l) => logs.push(l) });
  const mac = nextMac();
  try {
    let d = await TestDevice.connect(broker.url, mac);
    const img1 = makeImage(81, 6_000, 'image_1.jpg');
    await d.sendImage(img1);
    await d.waitForAck(img1.name);
    const img2 = makeImage(82, 10_000, 'image_2.jpg');
    await d.metadata(img2);
    await d.chunks(img2, [0, 1, 2, 3, 4]);
    await until(async () => (await rowsNamed(world.db, mac, img2.name))[0]?.received_chunks === 5, 5000, '5 chunks');
    await d.end();

    await broker.stop();
    const aedes = await Aedes.createBroker();
    // The pipeline's "reconnected" line comes before its subscriptions are back: chunks sent in between reach nobody
    // (and this scripted device does not answer missing_chunks). Wait for the data subscription itself.
    const resubscribed = new Promise<void>((resolve) =>
      aedes.on('subscribe', (subscriptions) => {
        if (subscriptions.some((s) => s.topic.endsWith('/data'))) resolve();
      }),
    );
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      aedes.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    restarted = { aedes, server, sockets };
    await until(() => logs.some((l) => l.includes('MQTT reconnected')), 8000, 'the pipeline to reconnect');
    await Promise.race([
      resubscribed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the pipeline did not re-subscribe')), 8000)),
    ]);

    d = await TestDevice.connect(broker.url, mac);
    try {
      await d.chunks(img2, [5, 6, 7, 8, 9]);
      await d.waitForAck(img2.name, 5000);
      const img3 = makeImage(83, 6_000, 'image_3.jpg');
      await d.sendImage(img3);
      await d.waitForAck(img3.name);
    } finally {
      await d.end();
    }
    await pipeline.idle();
    expect((await imagesOf(world.db, mac)).map((r) => [r.image_name, r.status])).toEqual([
      ['image_1.jpg', 'complete'],
      ['image_2.jpg', 'complete'],
      ['image_3.jpg', 'complete'],
    ]);
  } finally {
    await pipeline.stop();
    await broker.stop();
    if (restarted !== undefined) {
      const r = restarted;
      for (const s of r.sockets) s.destroy();
      await new Promise<void>((resolve) => r.server.close(() => resolve()));
      await new Promise<void>((resolve) => r.aedes.close(() => resolve()));
    }
  }
});

test("database connections killed (pg_terminate_backend of the pipeline's backends): it keeps serving", async () => {
  const pipeline = await world.pipeline({ instanceTag: 'killme' });
  const kill = async (): Promise<number> => {
    const { rows } = await world.db.query<{ killed: boolean }>(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
       WHERE application_name LIKE 'camfleet-pipeline-killme-%'`,
    );
    return rows.filter((r) => r.killed).length;
  };
  const d = await TestDevice.connect(world.broker.url, nextMac());
  try {
    const img1 = makeImage(91, 6_000, 'image_1.jpg');
    await d.sendImage(img1);
    await d.waitForAck(img1.name);
    await pipeline.idle();
    expect(await kill()).toBeGreaterThan(0);

    // Idle connections killed: the next messages get fresh ones.
    const img2 = makeImage(92, 6_000, 'image_2.jpg');
    await d.sendImage(img2);
    await d.waitForAck(img2.name);

    // Killed under a transfer, repeatedly, while chunks are being written.
    const img3 = makeImage(93, 40_000, 'image_3.jpg'); // 40 chunks
    const stop = answerMissing(d, img3);
    try {
      await d.metadata(img3);
      for (let i = 0; i < 40; i += 10) {
        await d.chunks(
          img3,
          Array.from({ length: 10 }, (_, k) => i + k),
        );
        await kill();
      }
      await d.waitForAck(img3.name, 8000);
    } finally {
      stop();
    }
    await pipeline.idle();
    expect((await imagesOf(world.db, d.mac)).map((r) => [r.image_name, r.status, r.blob_sha256])).toEqual([
      ['image_1.jpg', 'complete', img1.sha256],
      ['image_2.jpg', 'complete', img2.sha256],
      ['image_3.jpg', 'complete', img3.sha256],
    ]);
    expect(pipeline.stats().imagesCompleted).toBe(3);
  } finally {
    await d.end();
  }
});
