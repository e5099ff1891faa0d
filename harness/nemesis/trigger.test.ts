// Trigger syntax and the pure "is it due" rule.
import { describe, expect, it } from 'vitest';
import { formatTrigger, parseTrigger, triggerDue } from './trigger.ts';

const sample = { elapsedMs: 0, chunksStored: 0, chunksExpected: 200, transfersInFlight: 0, rowsReceiving: 0 };

describe('fault triggers', () => {
  it('reads percentages, in-flight counts and ms (a bare number is ms), and writes them back', () => {
    expect(parseTrigger('40%')).toEqual({ kind: 'progress', fraction: 0.4 });
    expect(parseTrigger('12.5%')).toEqual({ kind: 'progress', fraction: 0.125 });
    expect(parseTrigger('3-in-flight')).toEqual({ kind: 'in_flight', transfers: 3 });
    expect(parseTrigger('1500ms')).toEqual({ kind: 'time', ms: 1500 });
    expect(parseTrigger('5-receiving')).toEqual({ kind: 'receiving', rows: 5 });
    expect(parseTrigger(1500)).toEqual({ kind: 'time', ms: 1500 });
    for (const text of ['40%', '12.5%', '3-in-flight', '5-receiving', '1500ms'])
      expect(formatTrigger(parseTrigger(text))).toBe(text);
  });

  it('refuses what it cannot read, and percentages outside (0, 100)', () => {
    for (const bad of ['', 'soon', '40 %', '-5ms', '0%', '100%', '0-in-flight', 'x-in-flight', '0-receiving', '1.5ms'])
      expect(() => parseTrigger(bad), bad).toThrow();
  });

  it('is due at the share of expected chunks, the transfers in flight, or the elapsed time', () => {
    expect(triggerDue(parseTrigger('40%'), { ...sample, chunksStored: 79 })).toBe(false);
    expect(triggerDue(parseTrigger('40%'), { ...sample, chunksStored: 80 })).toBe(true);
    expect(triggerDue(parseTrigger('40%'), { ...sample, chunksExpected: 0, chunksStored: 5 })).toBe(false);
    expect(triggerDue(parseTrigger('2-in-flight'), { ...sample, transfersInFlight: 1 })).toBe(false);
    expect(triggerDue(parseTrigger('2-in-flight'), { ...sample, transfersInFlight: 2 })).toBe(true);
    expect(triggerDue(parseTrigger('3-receiving'), { ...sample, rowsReceiving: 2 })).toBe(false);
    expect(triggerDue(parseTrigger('3-receiving'), { ...sample, rowsReceiving: 3 })).toBe(true);
    expect(triggerDue(parseTrigger('100ms'), { ...sample, elapsedMs: 99 })).toBe(false);
    expect(triggerDue(parseTrigger('100ms'), { ...sample, elapsedMs: 100 })).toBe(true);
  });
});
