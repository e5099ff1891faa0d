import { describe, expect, test } from 'vitest';
import { parseNumberArgument } from './number-option.ts';

describe('parseNumberArgument', () => {
  const devices = parseNumberArgument('devices');
  test.each([
    ['3', 3],
    [3, 3],
    ['-1', -1],
    ['0.5', 0.5],
    ['1e3', 1000],
    [' 7 ', 7],
    [['1', '2'], 2],
  ])('%j → %d', (raw, value) => expect(devices(raw)).toBe(value));
  test.each([
    ['abc', 'got abc'],
    ['', 'got '],
    ['3x', 'got 3x'],
    ['Infinity', 'got Infinity'],
    [Number.NaN, 'got NaN'],
  ])('%j is refused with the text typed', (raw, got) => {
    expect(() => devices(raw)).toThrow(`--devices must be a number, ${got}`);
  });
});
