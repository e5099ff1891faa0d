import { describe, expect, test } from 'vitest';
import { RejectionLimiter, REJECTION_WINDOW_MS } from './rejection-limit.ts';

const A = 'AABBCCDDEEFF';
const B = 'B8F862F9C1C4';
const topicA = `ESP32CAM/${A}/data`;

describe('RejectionLimiter', () => {
  test('per device per minute: the first rows stored, the rest counted and handed out once the minute is over', () => {
    const limiter = new RejectionLimiter({ rowsPerDeviceMinute: 3, logLinesPerMinute: 100 });
    const t0 = 10 * REJECTION_WINDOW_MS;
    const decisions = Array.from({ length: 1000 }, (_, i) => limiter.admit(t0 + i, A, topicA, 'bad_json'));
    expect(decisions.filter((d) => d.store)).toHaveLength(3);
    // Another device has its own allowance in the same minute.
    expect(limiter.admit(t0 + 5, B, `ESP32CAM/${B}/data`, 'bad_json').store).toBe(true);
    expect(limiter.takeCounted(t0 + 1000)).toEqual([]); // the minute is not over
    expect(limiter.windowEndMs).toBe(t0 + REJECTION_WINDOW_MS);
    expect(limiter.pendingCounted).toBe(997);
    expect(limiter.takeCounted(t0 + REJECTION_WINDOW_MS)).toEqual([
      { deviceMac: A, topic: topicA, code: 'bad_json', messages: 997, windowStartMs: t0 },
    ]);
    expect(limiter.takeCounted(t0 + REJECTION_WINDOW_MS)).toEqual([]);
    // A new minute: a new allowance.
    expect(limiter.admit(t0 + REJECTION_WINDOW_MS + 1, A, topicA, 'bad_json').store).toBe(true);
  });

  test('counted per topic and code; a topic naming no device is its own sender; all handed out at stop', () => {
    const limiter = new RejectionLimiter({ rowsPerDeviceMinute: 1, logLinesPerMinute: 100 });
    for (const code of ['bad_json', 'bad_json', 'missing_field']) limiter.admit(0, A, topicA, code);
    limiter.admit(1, null, 'junk/topic', 'unknown_topic');
    limiter.admit(2, null, 'junk/topic', 'unknown_topic');
    expect(limiter.takeCounted('all')).toEqual([
      { deviceMac: A, topic: topicA, code: 'bad_json', messages: 1, windowStartMs: 0 },
      { deviceMac: A, topic: topicA, code: 'missing_field', messages: 1, windowStartMs: 0 },
      { deviceMac: null, topic: 'junk/topic', code: 'unknown_topic', messages: 1, windowStartMs: 0 },
    ]);
  });

  test('log lines capped for the whole pipeline per minute, and how many were left out said once', () => {
    const limiter = new RejectionLimiter({ rowsPerDeviceMinute: 100, logLinesPerMinute: 2 });
    const logged = Array.from({ length: 10 }, (_, i) => limiter.admit(i, i % 2 === 0 ? A : B, topicA, 'x').log);
    expect(logged.filter(Boolean)).toHaveLength(2);
    expect(limiter.takeUnlogged(REJECTION_WINDOW_MS)).toEqual([{ windowStartMs: 0, lines: 8 }]);
    expect(limiter.takeUnlogged('all')).toEqual([]);
  });

  test('counted so far (a pipeline asked to be idle): handed out without a new allowance for the device', () => {
    const limiter = new RejectionLimiter({ rowsPerDeviceMinute: 2, logLinesPerMinute: 100 });
    for (let i = 0; i < 5; i++) limiter.admit(i, A, topicA, 'bad_json');
    expect(limiter.takeCountedSoFar(10)).toEqual([
      { deviceMac: A, topic: topicA, code: 'bad_json', messages: 3, windowStartMs: 0 },
    ]);
    expect(limiter.admit(11, A, topicA, 'bad_json').store).toBe(false); // still past its cap this minute
    expect(limiter.takeCounted('all')).toEqual([
      { deviceMac: A, topic: topicA, code: 'bad_json', messages: 1, windowStartMs: 0 },
    ]);
  });
});
