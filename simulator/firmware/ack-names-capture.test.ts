// The v3.5.0 hazard and the opt-in cure (README "A hazard of firmware v3.5.0"): after a counter reset two queued
// captures share a name; a repeated ACK_OK for the older one dequeues the newer one under v3.5.0, and dequeues
// nothing more when the option "ACK names the capture" is on and the ACK carries the capture's timestamp.
import { describe, expect, test } from 'vitest';
import { withImageCounter } from './state.ts';
import { Device, metadatas, ofType } from './test-support.ts';

/** A device whose queue holds two captures named image_1.jpg (the second after a counter reset), the first in
 *  flight; returns the device and both captures' metadata timestamps. */
function twoCapturesOneName(ackNamesCapture: boolean) {
  const d = new Device({ ackNamesCapture, imageKbMean: 4 });
  d.online();
  const first = metadatas(d.msg({ kind: 'capture_image' }))[0];
  d.state = withImageCounter(d.state, 0); // a reflash / lost NVS write (PROTOCOL.md §1)
  d.send({ type: 'disconnected' }, 3_600_000); // the session ends; an hour later a new capture, still image_1.jpg
  d.send({ type: 'reboot' });
  d.fireTimer(); // boot over
  d.send({ type: 'connected' });
  const second = metadatas(d.msg({ kind: 'capture_image' }))[0];
  if (first === undefined || second === undefined) throw new Error('no metadata published');
  expect(d.queue).toEqual(['image_1.jpg', 'image_1.jpg']);
  expect(first.timestamp).not.toBe(second.timestamp);
  return { d, first, second };
}

describe('ACK_OK after a counter reset: two queued captures named image_1.jpg', () => {
  test('v3.5.0: two ACKs for the first capture dequeue both (the second, never acknowledged, is lost)', () => {
    const { d, first } = twoCapturesOneName(false);
    const ack = { kind: 'ack_ok' as const, image_name: 'image_1.jpg', timestamp: first.timestamp };
    const dequeued = [...ofType(d.msg(ack), 'dequeued'), ...ofType(d.msg(ack), 'dequeued')];
    // The timestamp is ignored: each ACK takes one image_1.jpg, the one in flight (the second) first.
    expect(dequeued).toHaveLength(2);
    expect(d.queue).toEqual([]);
  });

  test('ACK names the capture: an ACK with the first capture’s timestamp dequeues the first only, however often it comes', () => {
    const { d, first, second } = twoCapturesOneName(true);
    const ack = { kind: 'ack_ok' as const, image_name: 'image_1.jpg', timestamp: first.timestamp };
    const dequeued = [...ofType(d.msg(ack), 'dequeued'), ...ofType(d.msg(ack), 'dequeued')];
    expect(dequeued.map((e) => e.captureSeq)).toEqual([0]);
    expect(d.state.persistent.sd.queue.map((q) => q.captureTimestamp)).toEqual([second.timestamp]);
    // Its own ACK still dequeues it; an ACK naming a capture not queued dequeues nothing.
    expect(ofType(d.msg({ ...ack, timestamp: '2020-01-01T00:00:00Z' }), 'dequeued')).toEqual([]);
    expect(ofType(d.msg({ ...ack, timestamp: second.timestamp }), 'dequeued').map((e) => e.captureSeq)).toEqual([1]);
    expect(d.queue).toEqual([]);
  });

  test('ACK names the capture by timestamp and size: two captures that share name and timestamp (a clock reading 1970) are told apart', () => {
    const { d, first, second } = twoCapturesOneName(true);
    const ack = { kind: 'ack_ok' as const, image_name: 'image_1.jpg', timestamp: first.timestamp, image_size: 1 };
    expect(ofType(d.msg(ack), 'dequeued')).toEqual([]); // no queued capture of that size
    const own = { ...ack, timestamp: second.timestamp, image_size: second.image_size };
    expect(ofType(d.msg(own), 'dequeued').map((e) => e.captureSeq)).toEqual([1]);
  });

  test('ACK names the capture, but an old server’s ACK without a timestamp: taken by name, as v3.5.0 does', () => {
    const { d } = twoCapturesOneName(true);
    expect(ofType(d.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' }), 'dequeued')).toHaveLength(1);
  });
});
