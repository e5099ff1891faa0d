// Firmware support for device faults (ARCHITECTURE.md §4): the torn SD write helper and the bad-clock timestamp style.
import { describe, expect, test } from 'vitest';
import { formatCaptureTimestamp } from './capture.ts';
import { queuedNames, withImageCounter, withoutQueuedCapture } from './state.ts';
import { step } from './step.ts';
import { Device, metadatas } from './test-support.ts';

describe('withoutQueuedCapture (torn SD-queue write)', () => {
  test('drops exactly that capture, keeps the flash counter and captureSeq, never mutates', () => {
    const device = new Device();
    device.online();
    device.msg({ kind: 'capture_image' });
    device.msg({ kind: 'capture_image' });
    const before = device.state;
    const [first, second] = before.persistent.sd.queue;
    const after = withoutQueuedCapture(before, first?.captureSeq ?? -1);
    expect(queuedNames(after)).toEqual([second?.name]);
    expect(after.persistent.flash.imageCounter).toBe(2);
    expect(after.persistent.sim).toBe(before.persistent.sim);
    expect(queuedNames(before)).toEqual(['image_1.jpg', 'image_2.jpg']);
    expect(withoutQueuedCapture(before, 99)).toBe(before);
  });

  test('after a reboot the lost capture is not listed in HELLO; the counter goes on', () => {
    const device = new Device();
    device.online();
    device.msg({ kind: 'capture_image' });
    device.state = withoutQueuedCapture(device.state, 0);
    device.send({ type: 'reboot' });
    const effects = device.send({ type: 'timer', timerId: device.state.ram.timer!.timerId });
    expect(effects.map((e) => e.type)).toContain('connect');
    const hello = device.send({ type: 'connected' });
    expect(hello).toContainEqual(
      expect.objectContaining({ type: 'publish', message: expect.objectContaining({ pendingImg: 0 }) }),
    );
    device.msg({ kind: 'capture_image' });
    expect(device.queue).toEqual(['image_2.jpg']);
    expect(withImageCounter(device.state, 0).persistent.flash.imageCounter).toBe(0);
  });
});

describe('timestampStyle (bad clock)', () => {
  test('unpadded 1970 timestamps in metadata when the step context says so', () => {
    const device = new Device({}, 1, 12_000);
    device.send({ type: 'wake' });
    device.send({ type: 'connected' });
    const result = step(
      device.state,
      { type: 'message', message: { kind: 'capture_image' } },
      {
        nowMs: 12_000 + 3_723_000,
        random: device.random,
        timestampStyle: 'unpadded',
      },
    );
    const [metadata] = metadatas(result.effects);
    expect(metadata?.timestamp).toBe('1970-1-1 1:2:15');
    expect(result.state.persistent.sd.queue[0]?.captureTimestamp).toBe('1970-1-1 1:2:15');
  });

  test('formatCaptureTimestamp: iso by default, unpadded on request', () => {
    const ms = Date.UTC(2026, 0, 4, 9, 5, 7, 900);
    expect(formatCaptureTimestamp(ms)).toBe('2026-01-04T09:05:07Z');
    expect(formatCaptureTimestamp(ms, 'iso')).toBe('2026-01-04T09:05:07Z');
    expect(formatCaptureTimestamp(ms, 'unpadded')).toBe('2026-1-4 9:5:7');
    expect(formatCaptureTimestamp(Number.NaN, 'unpadded')).toBe('1970-1-1 0:0:0');
  });
});
