// The firmware profiles (profile.ts): each bug profile deviates from v3.5.0 exactly where it says, and fw350 is
// v3.5.0 unchanged.
import { describe, expect, it } from 'vitest';
import type { Chunk } from '../protocol/messages.ts';
import { sha256Hex } from './image.ts';
import { FIRMWARE_POLICIES, firmwarePolicy, firmwareProfiles, isFirmwareProfile } from './profile.ts';
import type { FirmwareProfile } from './profile.ts';
import { makeFirmwareConfig } from './state.ts';
import { Device, chunks, concat, metadatas, ofType, published } from './test-support.ts';

const bytesOf = (sent: readonly Chunk[]) => concat(sent.map((c) => c.payload));
const jpegLooking = (bytes: Uint8Array) =>
  bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff && bytes.at(-2) === 0xff && bytes.at(-1) === 0xd9;

/** A device of `profile` that captured `offline` images on wholly offline wakes, then came online (HELLO sent). */
function deviceWithQueue(profile: FirmwareProfile, offline: number): Device {
  const dev = new Device({ imageKbMean: 4, profile });
  for (let i = 0; i < offline; i++) {
    dev.send({ type: 'wake' }, 60_000);
    dev.send({ type: 'connect_failed' }, 1000);
  }
  dev.online();
  return dev;
}

describe('the profiles', () => {
  it('are listed with a policy each; fw350 is the default and deviates nowhere', () => {
    expect(firmwareProfiles).toEqual(['fw350', 'fw-resend-new-bytes', 'fw-dequeue-on-any-ack', 'fw-one-based-ids']);
    expect(Object.keys(FIRMWARE_POLICIES).sort()).toEqual([...firmwareProfiles].sort());
    expect(firmwarePolicy('fw350')).toEqual({
      resendRegeneratesBytes: false,
      ackDequeuesHead: false,
      wireChunkIdBase: 0,
    });
    // each bug profile changes exactly one thing
    for (const p of firmwareProfiles.filter((x) => x !== 'fw350')) {
      const changed = Object.entries(firmwarePolicy(p)).filter(
        ([k, v]) => v !== (FIRMWARE_POLICIES.fw350 as unknown as Record<string, unknown>)[k],
      );
      expect(changed, p).toHaveLength(1);
    }
    expect(makeFirmwareConfig({ deviceId: 'B8F862F9C1C4' }).profile).toBe('fw350');
    expect(isFirmwareProfile('fw-one-based-ids')).toBe(true);
    expect(isFirmwareProfile('fw351')).toBe(false);
    expect(() => makeFirmwareConfig({ deviceId: 'B8F862F9C1C4', profile: 'fw351' as FirmwareProfile })).toThrow(
      /profile must be one of fw350, fw-resend-new-bytes/,
    );
  });

  it('fw350 and fw-one-based-ids step exactly as v3.5.0 (the ids base is the codec’s, not the core’s)', () => {
    const script = (dev: Device) => {
      dev.send({ type: 'wake' });
      dev.send({ type: 'connect_failed' }, 1000);
      dev.online();
      dev.msg({ kind: 'send_all_pending' });
      dev.fireTimer(); // a retry after silence re-sends the SD card's bytes
      dev.msg({ kind: 'missing_chunks', image_name: 'image_1.jpg', missing_chunks: [0, 2] });
      dev.msg({ kind: 'ack_ok', image_name: 'image_9.jpg' }); // stale: ignored
      dev.msg({ kind: 'capture_image' });
      dev.msg({ kind: 'ack_ok', image_name: 'image_2.jpg', next_wake_time: '3:00PM' });
      return dev;
    };
    const v350 = script(new Device({ imageKbMean: 4 }));
    for (const profile of ['fw350', 'fw-one-based-ids'] as const) {
      const dev = script(new Device({ imageKbMean: 4, profile }));
      expect(dev.log).toEqual(v350.log);
      expect(dev.state.persistent).toEqual(v350.state.persistent);
    }
    // v3.5.0 re-sends what is on the SD card, keeps no publication count, and dequeues what an ACK names
    const image1 = v350.state.persistent.sd.queue[0]!;
    expect(image1.name).toBe('image_1.jpg');
    expect(image1.publications).toBeUndefined();
    const image1Chunks = chunks(v350.log).filter((c) => c.image_name === 'image_1.jpg');
    expect(image1Chunks.length).toBeGreaterThan(3);
    for (const c of image1Chunks)
      expect(sha256Hex(c.payload)).toBe(sha256Hex(image1.bytes.subarray(c.chunk_id * 1024, c.chunk_id * 1024 + 1024)));
    expect(ofType(v350.log, 'dequeued').map((e) => e.image_name)).toEqual(['image_2.jpg']);
  });
});

describe('fw-resend-new-bytes', () => {
  it('the first transfer sends the capture; every re-send after ACK silence makes up new bytes, same size, JPEG-looking', () => {
    const dev = new Device({ imageKbMean: 4, profile: 'fw-resend-new-bytes' });
    dev.online();
    const first = dev.msg({ kind: 'capture_image' });
    const captured = ofType(first, 'captured')[0]!.image;
    expect(sha256Hex(bytesOf(chunks(first)))).toBe(captured.sha256);
    const seen = new Set([captured.sha256]);
    for (let retry = 1; retry <= 3; retry++) {
      const resent = dev.fireTimer();
      expect(metadatas(resent)[0]).toEqual(metadatas(first)[0]); // same capture announced: same name, time, size
      const bytes = bytesOf(chunks(resent));
      expect(bytes.length).toBe(captured.sizeBytes);
      expect(jpegLooking(bytes)).toBe(true);
      seen.add(sha256Hex(bytes));
      // the SD card keeps the original capture; only the count of publications moves
      const entry = dev.state.persistent.sd.queue[0]!;
      expect(entry.sha256).toBe(captured.sha256);
      expect(sha256Hex(entry.bytes)).toBe(captured.sha256);
      expect(entry.publications).toBe(retry + 1);
    }
    expect(seen.size).toBe(4); // every re-send differs from the capture and from each other
  });

  it('a missing_chunks answer, a send_image and a drain after a reboot are re-sends too', () => {
    const dev = new Device({ imageKbMean: 4, profile: 'fw-resend-new-bytes' });
    dev.online();
    const first = dev.msg({ kind: 'capture_image' });
    const original = bytesOf(chunks(first));
    const missing = chunks(dev.msg({ kind: 'missing_chunks', image_name: 'image_1.jpg', missing_chunks: [1, 2] }));
    expect(missing.map((c) => c.chunk_id)).toEqual([1, 2]);
    expect(bytesOf(missing)).not.toEqual(original.subarray(1024, 3072));
    const sendImage = bytesOf(chunks(dev.msg({ kind: 'send_image', image_name: 'image_1.jpg' })));
    expect(sendImage).not.toEqual(original);
    dev.send({ type: 'reboot' });
    dev.fireTimer(); // booted: connect
    dev.send({ type: 'connected' });
    const drained = bytesOf(chunks(dev.msg({ kind: 'send_all_pending' })));
    expect(drained.length).toBe(original.length);
    expect(drained).not.toEqual(original);
    expect(drained).not.toEqual(sendImage);
    expect(dev.state.persistent.sd.queue[0]?.publications).toBe(4);
  });

  it('an image captured offline goes out as captured the first time (its first transfer is a drain)', () => {
    const dev = deviceWithQueue('fw-resend-new-bytes', 2);
    const effects = dev.msg({ kind: 'send_all_pending' });
    const [image1] = dev.state.persistent.sd.queue;
    expect(sha256Hex(bytesOf(chunks(effects)))).toBe(image1!.sha256);
  });

  it('is deterministic: the same seed and inputs give the same bytes', () => {
    const run = () => {
      const dev = new Device({ imageKbMean: 4, profile: 'fw-resend-new-bytes' }, 7);
      dev.online();
      dev.msg({ kind: 'capture_image' });
      return published(dev.fireTimer());
    };
    expect(run()).toEqual(run());
  });
});

describe('fw-dequeue-on-any-ack', () => {
  it('an ACK_OK for the in-flight head dequeues it, as v3.5.0 does', () => {
    const dev = deviceWithQueue('fw-dequeue-on-any-ack', 2);
    dev.msg({ kind: 'send_all_pending' });
    const effects = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' });
    expect(ofType(effects, 'dequeued').map((e) => e.image_name)).toEqual(['image_1.jpg']);
    expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_2.jpg']); // the drain goes on
  });

  it('an ACK_OK naming another image removes the head, and the dequeued observation names the head', () => {
    const bug = deviceWithQueue('fw-dequeue-on-any-ack', 2);
    const v350 = deviceWithQueue('fw350', 2);
    const [head, second] = bug.state.persistent.sd.queue;
    for (const dev of [bug, v350]) dev.msg({ kind: 'send_all_pending' }); // image_1 in flight, image_2 to drain
    const bugEffects = bug.msg({ kind: 'ack_ok', image_name: 'image_2.jpg' });
    const v350Effects = v350.msg({ kind: 'ack_ok', image_name: 'image_2.jpg' });
    expect(ofType(v350Effects, 'dequeued').map((e) => e.image_name)).toEqual(['image_2.jpg']);
    expect(ofType(bugEffects, 'dequeued')).toEqual([
      { type: 'dequeued', image_name: 'image_1.jpg', sha256: head!.sha256, captureSeq: head!.captureSeq },
    ]);
    expect(bug.queue).toEqual(['image_2.jpg']);
    // The ACK settled image_2 by name (off the drain), as v3.5.0: image_1 is still awaited, its timer running.
    expect(bug.state.ram).toMatchObject({ inFlight: head!.captureSeq, drain: [] });
    expect(v350.state.ram).toMatchObject({ inFlight: head!.captureSeq, drain: [] });
    expect(second!.name).toBe('image_2.jpg');
  });

  it('a stale ACK_OK (a name no longer queued) still removes the head; an empty queue loses nothing', () => {
    const dev = deviceWithQueue('fw-dequeue-on-any-ack', 3);
    dev.msg({ kind: 'send_all_pending' });
    dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' }); // image_1 out; image_2 sent
    const stale = dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' }); // a repeated ACK
    expect(ofType(stale, 'dequeued').map((e) => e.image_name)).toEqual(['image_2.jpg']);
    // image_2's own ACK no longer finds it queued: it takes image_3, which was never sent
    const own = dev.msg({ kind: 'ack_ok', image_name: 'image_2.jpg' });
    expect(ofType(own, 'dequeued').map((e) => e.image_name)).toEqual(['image_3.jpg']);
    expect(metadatas(dev.log).map((m) => m.image_name)).toEqual(['image_1.jpg', 'image_2.jpg']);
    expect(dev.queue).toEqual([]);
    expect(dev.msg({ kind: 'ack_ok', image_name: 'image_3.jpg' })).toEqual([]);
  });
});
