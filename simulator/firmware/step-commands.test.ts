// Server commands (PROTOCOL.md §4) against the pure core.
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './image.ts';
import { Device, DEVICE_ID, T0, chunks, concat, hellos, metadatas, ofType, published, types } from './test-support.ts';

describe('wake and HELLO', () => {
  it('wake → connect; connected → HELLO with queue state and a reply timer', () => {
    const dev = new Device();
    expect(dev.send({ type: 'wake' })).toEqual([{ type: 'connect' }]);
    expect(dev.state.ram.phase).toBe('connecting');
    const effects = dev.send({ type: 'connected' });
    expect(types(effects)).toEqual(['publish', 'set_timer']);
    expect(hellos(effects)).toEqual([
      {
        kind: 'hello',
        device_id: DEVICE_ID,
        status: 'Alive',
        pendingImg: 0,
        pending_list: [],
        firmware_version: '3.5.0',
      },
    ]);
    expect(ofType(effects, 'set_timer')[0]?.afterMs).toBe(dev.state.config.helloTimeoutMs);
    expect(dev.state.ram.phase).toBe('online');
  });

  it('speaks the spec status spelling in the spec dialect', () => {
    const dev = new Device({ dialect: 'spec' });
    expect(hellos(dev.online())[0]?.status).toBe('alive');
  });

  it('caps pending_list at 10 while pendingImg counts the whole queue', () => {
    const dev = new Device({ imageKbMean: 4 });
    for (let i = 0; i < 12; i++) {
      dev.send({ type: 'wake' });
      dev.send({ type: 'connect_failed' }, 1000);
    }
    const hello = hellos(dev.online())[0];
    expect(hello?.pendingImg).toBe(12);
    expect(hello?.pending_list).toEqual(Array.from({ length: 10 }, (_, i) => `image_${i + 1}.jpg`));
  });
});

describe('capture_image', () => {
  it('captures, queues, and sends metadata then every chunk back to back', () => {
    const dev = new Device();
    dev.online();
    const effects = dev.msg({ kind: 'capture_image' });
    const captured = ofType(effects, 'captured');
    expect(captured).toHaveLength(1);
    const info = captured[0]!.image;
    expect(info).toMatchObject({ name: 'image_1.jpg', imageId: 1, captureSeq: 0, capturedAtMs: T0 });
    expect(info.captureTimestamp).toBe('2026-01-14T10:00:00Z');
    expect(dev.state.persistent.flash.imageCounter).toBe(1);
    expect(dev.queue).toEqual(['image_1.jpg']);

    // captured, then the hello timer cancelled before anything is sent; ack timer armed after the last chunk
    expect(types(effects).slice(0, 3)).toEqual(['captured', 'cancel_timer', 'publish']);
    expect(effects.at(-1)).toMatchObject({ type: 'set_timer', afterMs: dev.state.config.ackTimeoutMs });
    const msgs = published(effects);
    expect(msgs[0]?.kind).toBe('metadata');
    const meta = metadatas(effects)[0]!;
    const total = Math.ceil(info.sizeBytes / 1024);
    expect(meta).toMatchObject({
      device_id: DEVICE_ID,
      timestamp: '2026-01-14T10:00:00Z',
      image_name: 'image_1.jpg',
      image_id: 1,
      image_size: info.sizeBytes,
      max_chunk_size: 1024,
      total_chunk_count: total,
      error: 0,
    });
    const s = meta.sensor_data!;
    expect(s.temperature).toBeGreaterThanOrEqual(18);
    expect(s.temperature).toBeLessThanOrEqual(28);
    expect(s.humidity).toBeGreaterThan(0);
    expect(s.pressure).toBeGreaterThan(900);
    expect(s.gas_resistance).toBeGreaterThan(0);

    const sent = chunks(effects);
    expect(sent.map((c) => c.chunk_id)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(msgs.slice(1).every((m) => m.kind === 'chunk')).toBe(true);
    const assembled = concat(sent.map((c) => c.payload));
    expect(assembled.length).toBe(info.sizeBytes);
    expect(sha256Hex(assembled)).toBe(info.sha256);
    expect([...assembled.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...assembled.subarray(-2)]).toEqual([0xff, 0xd9]);
    expect(sent[0]?.payload.buffer).toBe(dev.state.persistent.sd.queue[0]?.bytes.buffer); // views, no copies
  });

  it('numbers successive captures from the flash counter', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    dev.msg({ kind: 'capture_image' });
    expect(dev.queue).toEqual(['image_1.jpg', 'image_2.jpg']);
    expect(dev.state.persistent.flash.imageCounter).toBe(2);
  });

  it('produces the same images for the same device seed and ctx randomness', () => {
    const a = new Device({ imageKbMean: 4 }, 77);
    const b = new Device({ imageKbMean: 4 }, 77);
    for (const dev of [a, b]) {
      dev.online();
      dev.msg({ kind: 'capture_image' });
    }
    expect(a.state.persistent.sd.queue[0]?.sha256).toBe(b.state.persistent.sd.queue[0]?.sha256);
    const c = new Device({ imageKbMean: 4 }, 78);
    c.online();
    c.msg({ kind: 'capture_image' });
    expect(c.state.persistent.sd.queue[0]?.sha256).not.toBe(a.state.persistent.sd.queue[0]?.sha256);
  });
});

describe('ACK_OK', () => {
  it('object form: dequeues, disconnects and sleeps until the next UTC occurrence', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    const sha = ofType(dev.msg({ kind: 'capture_image' }), 'captured')[0]?.image.sha256;
    const effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg', next_wake_time: '3:00PM' });
    expect(types(effects)).toEqual(['dequeued', 'cancel_timer', 'disconnect', 'sleep']);
    expect(effects[0]).toEqual({ type: 'dequeued', image_name: 'image_1.jpg', sha256: sha, captureSeq: 0 });
    expect(effects[3]).toEqual({ type: 'sleep', untilMs: Date.UTC(2026, 0, 14, 15, 0), source: 'server' });
    expect(dev.queue).toEqual([]);
    expect(dev.state.ram.phase).toBe('asleep');
  });

  it('a wake time earlier in the day means tomorrow', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    const effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg', next_wake_time: '9:30AM' });
    expect(ofType(effects, 'sleep')[0]?.untilMs).toBe(Date.UTC(2026, 0, 15, 9, 30));
  });

  it('true form without a wake time: dequeues and waits (idle timer), then sleeps the default interval', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    const effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' });
    expect(types(effects)).toEqual(['dequeued', 'cancel_timer', 'set_timer']);
    expect(dev.state.ram.timer?.kind).toBe('idle');
    const sleepEffects = dev.fireTimer();
    expect(types(sleepEffects)).toEqual(['disconnect', 'sleep']);
    expect(ofType(sleepEffects, 'sleep')[0]).toEqual({
      type: 'sleep',
      untilMs: dev.nowMs + dev.state.config.wakeIntervalMsDefault,
      source: 'default',
    });
  });

  it('sleep-only form (no image_name) sleeps without touching the queue', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.send({ type: 'wake' });
    dev.send({ type: 'connect_failed' }); // one offline capture
    dev.online();
    const effects = dev.msg({ kind: 'ack_ok', next_wake_time: '5:30PM' });
    expect(types(effects)).toEqual(['cancel_timer', 'disconnect', 'sleep']);
    expect(dev.queue).toEqual(['image_1.jpg']);
  });

  it('a repeated ACK for an image no longer queued, with no wake time, is ignored', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' });
    const before = dev.state;
    expect(dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' })).toEqual([]);
    expect(dev.state).toBe(before);
  });

  it('an unparseable wake time still means sleep, for the default interval', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    const effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg', next_wake_time: '25:99XM' });
    expect(ofType(effects, 'sleep')[0]?.untilMs).toBe(dev.nowMs + dev.state.config.wakeIntervalMsDefault);
  });
});

describe('next_wake', () => {
  it('sleeps until that time when nothing is in flight', () => {
    const dev = new Device();
    dev.online();
    const effects = dev.msg({ kind: 'next_wake', next_wake: '5:30PM' });
    expect(types(effects)).toEqual(['cancel_timer', 'disconnect', 'sleep']);
    expect(ofType(effects, 'sleep')[0]?.untilMs).toBe(Date.UTC(2026, 0, 14, 17, 30));
  });

  it('while an image awaits its ACK: sleeps right after that ACK', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    expect(dev.msg({ kind: 'next_wake', next_wake: '5:30PM' })).toEqual([]);
    const effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' });
    expect(types(effects)).toEqual(['dequeued', 'cancel_timer', 'disconnect', 'sleep']);
    expect(ofType(effects, 'sleep')[0]?.untilMs).toBe(Date.UTC(2026, 0, 14, 17, 30));
  });
});

describe('send_image', () => {
  it('re-sends a queued image (metadata + all chunks) with a fresh ack wait', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.send({ type: 'wake' });
    dev.send({ type: 'connect_failed' });
    dev.online();
    const effects = dev.msg({ kind: 'send_image', image_name: 'image_1.jpg' });
    const image = dev.state.persistent.sd.queue[0]!;
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_1.jpg']);
    expect(chunks(effects)).toHaveLength(Math.ceil(image.sizeBytes / 1024));
    expect(sha256Hex(concat(chunks(effects).map((c) => c.payload)))).toBe(image.sha256);
    expect(dev.state.ram.timer?.kind).toBe('ack');
    expect(ofType(effects, 'captured')).toEqual([]);
  });

  it('ignores a name it does not have: no effects, same state', () => {
    const dev = new Device();
    dev.online();
    const before = dev.state;
    expect(dev.msg({ kind: 'send_image', image_name: 'image_9.jpg' })).toEqual([]);
    expect(dev.state).toBe(before);
  });
});

describe('send_all_pending', () => {
  it('streams the queue oldest first, one image per ACK_OK:true, then sleeps on the wake time', () => {
    const dev = new Device({ imageKbMean: 4 });
    for (let i = 0; i < 3; i++) {
      dev.send({ type: 'wake' });
      dev.send({ type: 'connect_failed' }, 1000);
    }
    dev.online();
    let effects = dev.msg({ kind: 'send_all_pending' });
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_1.jpg']);
    effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' });
    expect(types(effects).slice(0, 3)).toEqual(['dequeued', 'cancel_timer', 'publish']);
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_2.jpg']);
    effects = dev.msg({ kind: 'ack_ok', image_name: 'image_2.jpg' });
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_3.jpg']);
    effects = dev.msg({ kind: 'ack_ok', image_name: 'image_3.jpg', next_wake_time: '3:00PM' });
    expect(types(effects)).toEqual(['dequeued', 'cancel_timer', 'disconnect', 'sleep']);
    expect(dev.queue).toEqual([]);
  });

  it('a wake time given mid-drain is kept until the drain is done', () => {
    const dev = new Device({ imageKbMean: 4 });
    for (let i = 0; i < 2; i++) {
      dev.send({ type: 'wake' });
      dev.send({ type: 'connect_failed' }, 1000);
    }
    dev.online();
    dev.msg({ kind: 'send_all_pending' });
    let effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg', next_wake_time: '3:00PM' });
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_2.jpg']);
    expect(ofType(effects, 'sleep')).toEqual([]);
    effects = dev.msg({ kind: 'ack_ok', image_name: 'image_2.jpg' });
    expect(ofType(effects, 'sleep')[0]?.untilMs).toBe(Date.UTC(2026, 0, 14, 15, 0));
  });

  it('with an empty queue is a no-op', () => {
    const dev = new Device();
    dev.online();
    const before = dev.state;
    expect(dev.msg({ kind: 'send_all_pending' })).toEqual([]);
    expect(dev.state).toBe(before);
  });

  it('a capture_image mid-drain is sent at once; the preempted image goes back in line', () => {
    const dev = new Device({ imageKbMean: 4 });
    for (let i = 0; i < 2; i++) {
      dev.send({ type: 'wake' });
      dev.send({ type: 'connect_failed' }, 1000);
    }
    dev.online();
    dev.msg({ kind: 'send_all_pending' }); // image_1 in flight, image_2 next
    let effects = dev.msg({ kind: 'capture_image' });
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_3.jpg']);
    effects = dev.msg({ kind: 'ack_ok', image_name: 'image_3.jpg' });
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_1.jpg']);
    effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' });
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_2.jpg']);
  });
});

describe('missing_chunks', () => {
  // The core sees the decoded message only: the same MissingChunks whether it came on /ack (Jan 2026 service)
  // or /cmd (spec) — PROTOCOL.md §4. Both situations it arrives in are covered here.
  it('re-sends only the listed chunks of the in-flight image (ids out of range ignored) and re-arms the ack wait', () => {
    const dev = new Device();
    dev.online();
    dev.msg({ kind: 'capture_image' });
    const image = dev.state.persistent.sd.queue[0]!;
    const total = Math.ceil(image.sizeBytes / 1024);
    const effects = dev.msg({
      kind: 'missing_chunks',
      image_name: 'image_1.jpg',
      missing_chunks: [4, 9, -1, total, 9],
    });
    expect(types(effects)).toEqual(['publish', 'publish', 'cancel_timer', 'set_timer']);
    const sent = chunks(effects);
    expect(sent.map((c) => c.chunk_id)).toEqual([4, 9]);
    expect([...sent[0]!.payload]).toEqual([...image.bytes.subarray(4 * 1024, 5 * 1024)]);
    expect(metadatas(effects)).toEqual([]);
    expect(dev.state.ram.timer?.kind).toBe('ack');
    // then the ACK completes it
    expect(ofType(dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' }), 'dequeued')).toHaveLength(1);
  });

  it('right after HELLO, for an image queued from an earlier wake (cross-wake resume)', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.send({ type: 'wake' });
    dev.send({ type: 'connect_failed' });
    dev.online();
    const effects = dev.msg({ kind: 'missing_chunks', image_name: 'image_1.jpg', missing_chunks: [0, 2] });
    expect(chunks(effects).map((c) => c.chunk_id)).toEqual([0, 2]);
    expect(types(effects)).toEqual(['publish', 'publish', 'cancel_timer', 'set_timer']);
    expect(dev.state.ram.timer?.kind).toBe('ack');
    expect(dev.state.ram.inFlight).toBe(0);
  });

  it('ignores unknown images and lists with no valid id', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    const before = dev.state;
    expect(dev.msg({ kind: 'missing_chunks', image_name: 'image_7.jpg', missing_chunks: [1] })).toEqual([]);
    expect(dev.msg({ kind: 'missing_chunks', image_name: 'image_1.jpg', missing_chunks: [10_000, 1.5] })).toEqual([]);
    expect(dev.state).toBe(before);
  });
});
