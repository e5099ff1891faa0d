import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { normaliseDeviceId } from './mac.ts';

describe('normaliseDeviceId', () => {
  it.each([
    ['98:a3:16:f8:29:28', '98A316F82928'],
    ['98-A3-16-F8-29-28', '98A316F82928'],
    ['98 a3 16 f8 29 28', '98A316F82928'],
    ['b8f862f9c1c4', 'B8F862F9C1C4'],
    ['B8F862F9C1C4', 'B8F862F9C1C4'],
    ['TEST-device-1', 'TEST-device-1'],
    ['SYSTEM:auto', 'SYSTEM:auto'],
    ['VIRTUAL:abc-01', 'VIRTUAL:abc-01'],
  ])('%s → %s', (raw, id) => {
    expect(normaliseDeviceId(raw)).toBe(id);
  });

  it.each([
    '',
    'XYZ',
    'B8F862F9C1C',
    'B8F862F9C1C4D',
    'G8F862F9C1C4',
    '98:a3:16:f8:29:28:00',
    'TEST-',
    'TEST-a/b',
    'TEST-+',
    'test-abc',
    'B8F862F9C1C4\n',
  ])('%j → null', (raw) => {
    expect(normaliseDeviceId(raw)).toBeNull();
  });

  test.prop([fc.string({ unit: 'binary' })])('never throws; a result is a MAC or a kept id, and idempotent', (raw) => {
    const id = normaliseDeviceId(raw);
    if (id === null) return;
    expect(/^[0-9A-F]{12}$/.test(id) || /^(TEST-|SYSTEM:|VIRTUAL:)/.test(id)).toBe(true);
    expect(normaliseDeviceId(id)).toBe(id);
  });
});
