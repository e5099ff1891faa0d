import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { formatDeviceTimestamp, parseDeviceTimestamp } from './timestamp.ts';

const NOW = Date.parse('2026-02-01T12:00:00Z');

describe('device timestamps', () => {
  it.each([
    ['2026-01-14T10:00:00Z', '2026-01-14T10:00:00.000Z'],
    ['2026-1-4 9:5:7', '2026-01-04T09:05:07.000Z'],
    ['2026-01-14T10:00:00', '2026-01-14T10:00:00.000Z'],
    ['2026-01-14 10:00', '2026-01-14T10:00:00.000Z'],
    ['2026-01-14T10:00:00.250Z', '2026-01-14T10:00:00.250Z'],
    ['2026-01-14T12:00:00+02:00', '2026-01-14T10:00:00.000Z'],
    ['2024-2-29 0:0:0', '2024-02-29T00:00:00.000Z'],
  ])('%s is device time %s', (raw, iso) => {
    expect(parseDeviceTimestamp(raw, NOW)).toEqual({ ms: Date.parse(iso), source: 'device' });
  });

  it.each([
    '1970-01-01T00:00:12Z',
    '2019-12-31T23:59:59Z',
    '2101-01-01T00:00:00Z',
    'garbage',
    '',
    '2026-2-30 1:1:1',
    '2026-13-01T00:00:00Z',
    '2026-01-14T24:00:00Z',
    '2026-01-14',
  ])('%j falls back to server time with a reason', (raw) => {
    const t = parseDeviceTimestamp(raw, NOW);
    expect(t.ms).toBe(NOW);
    expect(t.source).toBe('server_fallback');
    expect(t.reason).toMatch(/timestamp/);
  });

  it('formats both styles', () => {
    const ms = Date.parse('2026-01-04T09:05:07Z');
    expect(formatDeviceTimestamp(ms, 'iso')).toBe('2026-01-04T09:05:07Z');
    expect(formatDeviceTimestamp(ms, 'unpadded')).toBe('2026-1-4 9:5:7');
  });

  test.prop([
    fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2100-12-31T23:59:59Z') }),
    fc.constantFrom('iso', 'unpadded' as const),
  ])('format/parse round trip (to the second)', (ms, style) => {
    expect(parseDeviceTimestamp(formatDeviceTimestamp(ms, style), NOW)).toEqual({
      ms: ms - (ms % 1000),
      source: 'device',
    });
  });

  test.prop([fc.string({ unit: 'binary' })])('never throws', (raw) => {
    expect(['device', 'server_fallback']).toContain(parseDeviceTimestamp(raw, NOW).source);
  });
});
