import { describe, expect, it } from 'vitest';
import { nextOccurrenceUtcMs, parseWakeTime } from './wake-time.ts';

describe('wake times (H:MMAM|PM, UTC)', () => {
  it('parses 12-hour times', () => {
    expect(parseWakeTime('3:00PM')).toEqual({ hour24: 15, minute: 0 });
    expect(parseWakeTime('12:05AM')).toEqual({ hour24: 0, minute: 5 });
    expect(parseWakeTime('12:30PM')).toEqual({ hour24: 12, minute: 30 });
    expect(parseWakeTime('9:59am')).toEqual({ hour24: 9, minute: 59 });
    for (const bad of ['13:00PM', '0:10AM', '3:0PM', '3:60PM', '15:00', '', 'soon', 42, null]) {
      expect(parseWakeTime(bad)).toBeUndefined();
    }
  });

  it('finds the next UTC occurrence strictly after now', () => {
    const now = Date.UTC(2026, 0, 14, 10, 0, 0);
    expect(nextOccurrenceUtcMs(now, '3:00PM')).toBe(Date.UTC(2026, 0, 14, 15, 0));
    expect(nextOccurrenceUtcMs(now, '9:00AM')).toBe(Date.UTC(2026, 0, 15, 9, 0));
    expect(nextOccurrenceUtcMs(now, '10:00AM')).toBe(Date.UTC(2026, 0, 15, 10, 0));
    expect(nextOccurrenceUtcMs(now, 'later')).toBeUndefined();
    expect(nextOccurrenceUtcMs(Number.NaN, '3:00PM')).toBeUndefined();
  });
});
