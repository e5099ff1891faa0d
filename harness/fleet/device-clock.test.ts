import { describe, expect, test } from 'vitest';
import { DeviceClock } from './device-clock.ts';

describe('DeviceClock', () => {
  test('runs at real speed while awake and skips compressed sleep so the device wakes at the instant it asked', () => {
    let real = 1_000;
    const clock = new DeviceClock(Date.UTC(2026, 0, 14, 6), () => real);
    expect(clock.now()).toBe(Date.UTC(2026, 0, 14, 6));
    real += 250;
    expect(clock.now()).toBe(Date.UTC(2026, 0, 14, 6) + 250);
    const until = clock.now() + 12 * 3_600_000;
    const waitMs = clock.compressSleep(until, 360_000, 2_000);
    expect(waitMs).toBe(120); // 12 h at 1 h = 10 ms
    real += waitMs;
    expect(clock.now()).toBe(until);
  });

  test('caps the real wait and never goes backwards for a wake time in the past', () => {
    let real = 0;
    const clock = new DeviceClock(0, () => real);
    expect(clock.compressSleep(10 * 86_400_000, 1, 500)).toBe(500);
    real += 500;
    expect(clock.now()).toBe(10 * 86_400_000);
    const before = clock.now();
    expect(clock.compressSleep(before - 1_000, 360_000, 500)).toBe(0);
    expect(clock.now()).toBe(before);
  });
});
