import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { formatClock, formatWakeTime, nextOccurrenceUtcMs, parseWakeTime } from './wake-time.ts';

const at = (iso: string): number => Date.parse(iso);

describe('wake times', () => {
  it.each([
    ['2026-01-14T15:00:00Z', '3:00PM'],
    ['2026-01-14T12:00:00Z', '12:00PM'],
    ['2026-01-14T00:05:59Z', '12:05AM'],
    ['2026-01-14T09:07:00Z', '9:07AM'],
    ['2026-01-14T23:59:00Z', '11:59PM'],
  ])('formatWakeTime(%s) = %s (UTC)', (iso, s) => {
    expect(formatWakeTime(at(iso))).toBe(s);
  });

  it.each([
    ['3:00PM', { hour24: 15, minute: 0 }],
    ['12:00PM', { hour24: 12, minute: 0 }],
    ['12:05AM', { hour24: 0, minute: 5 }],
    ['03:30 pm', { hour24: 15, minute: 30 }],
  ])('parseWakeTime(%s)', (s, t) => {
    expect(parseWakeTime(s)).toEqual(t);
  });

  it.each(['', '3PM', '3:0PM', '13:00PM', '0:30AM', '3:60PM', '15:00', '3:00XM', '3:00 PM extra'])(
    'parseWakeTime(%j) = null',
    (s) => {
      expect(parseWakeTime(s)).toBeNull();
    },
  );

  it('nextOccurrenceUtcMs is strictly after now', () => {
    expect(nextOccurrenceUtcMs('3:00PM', at('2026-01-14T10:00:00Z'))).toBe(at('2026-01-14T15:00:00Z'));
    expect(nextOccurrenceUtcMs('3:00PM', at('2026-01-14T15:00:00Z'))).toBe(at('2026-01-15T15:00:00Z'));
    expect(nextOccurrenceUtcMs('3:00PM', at('2026-01-14T14:59:59.999Z'))).toBe(at('2026-01-14T15:00:00Z'));
    expect(nextOccurrenceUtcMs('12:05AM', at('2026-12-31T23:00:00Z'))).toBe(at('2027-01-01T00:05:00Z'));
    expect(nextOccurrenceUtcMs('nonsense', 0)).toBeNull();
  });

  test.prop([fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })])(
    'formatClock/parseWakeTime round trip',
    (hour24, minute) => {
      const s = formatClock({ hour24, minute });
      expect(s).toMatch(/^(1[0-2]|[1-9]):[0-5]\d[AP]M$/);
      expect(parseWakeTime(s)).toEqual({ hour24, minute });
    },
  );

  test.prop([fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 0, max: 4_102_444_800_000 })])(
    'nextOccurrenceUtcMs(formatWakeTime(t), now) is within a day after now, at that clock time',
    (t, now) => {
      const s = formatWakeTime(t);
      const next = nextOccurrenceUtcMs(s, now);
      expect(next).not.toBeNull();
      expect(next! > now && next! <= now + 86_400_000).toBe(true);
      expect(formatWakeTime(next!)).toBe(s);
      expect(next! % 60_000).toBe(0);
    },
  );
});
