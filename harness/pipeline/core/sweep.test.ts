// The all-stored rule and the missing-chunks sweep's decisions (pure).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MISSING_IDS_PER_REQUEST_MAX } from './missing.ts';
import { finishedImageIds, isAllStored } from './progress.ts';
import { isDueForSweep, isStillIdle, sweepAction, sweepCanPark, sweepIdleMs, type SweptTransfer } from './sweep.ts';

describe('all chunks stored', () => {
  test('the count reaches the total; an unknown total never does', () => {
    expect(isAllStored(70, 70)).toBe(true);
    expect(isAllStored(71, 70)).toBe(true);
    expect(isAllStored(69, 70)).toBe(false);
    expect(isAllStored(5, null)).toBe(false);
  });

  test('a flush finishes the images whose rows now hold every chunk and are not complete yet', () => {
    const p = (imageId: string, receivedChunks: number, totalChunks: number | null, status: string | null) => ({
      imageId,
      receivedChunks,
      totalChunks,
      status,
    });
    expect(
      finishedImageIds([
        p('done', 3, 3, 'receiving'),
        p('short', 2, 3, 'receiving'),
        p('stored', 3, 3, 'complete'),
        p('unknown', 3, null, 'receiving'),
        p('pending', 4, 4, null),
      ]),
    ).toEqual(new Set(['done', 'pending']));
    expect(finishedImageIds([p('short', 2, 3, 'receiving')])).toBeUndefined();
  });
});

const idle: SweptTransfer = { state: 'receiving', buffered: 0, sweeping: false, lastActivityMs: 0, missingRequests: 0 };

describe('the sweep', () => {
  test('idle time: the configured one, stretched by twice the delivery lag, at most by ten times itself', () => {
    expect(sweepIdleMs(1500, 0)).toBe(1500);
    expect(sweepIdleMs(1500, 400)).toBe(2300);
    expect(sweepIdleMs(1500, 1e9)).toBe(16_500);
  });

  test('due: receiving, nothing buffered, no sweep running, idle long enough, asked fewer times than allowed', () => {
    expect(isDueForSweep(idle, 1000, 1000, 5)).toBe(true);
    expect(isDueForSweep(idle, 999, 1000, 5)).toBe(false);
    expect(isDueForSweep({ ...idle, state: 'completing' }, 1000, 1000, 5)).toBe(false);
    expect(isDueForSweep({ ...idle, state: 'complete' }, 1000, 1000, 5)).toBe(false);
    expect(isDueForSweep({ ...idle, buffered: 1 }, 1000, 1000, 5)).toBe(false);
    expect(isDueForSweep({ ...idle, sweeping: true }, 1000, 1000, 5)).toBe(false);
    expect(isDueForSweep({ ...idle, missingRequests: 5 }, 1000, 1000, 5)).toBe(false);
  });

  test('parks when no transfer can become due by time alone: each settled, or asked requestsMax times with nothing on its way', () => {
    const complete = { ...idle, state: 'complete' as const };
    expect(sweepCanPark([], 5)).toBe(true);
    expect(sweepCanPark([complete, { ...idle, state: 'failed' }], 5)).toBe(true);
    expect(sweepCanPark([complete, { ...idle, missingRequests: 5 }], 5)).toBe(true);
    expect(sweepCanPark([complete, idle], 5)).toBe(false);
    expect(sweepCanPark([{ ...idle, missingRequests: 5, buffered: 1 }], 5)).toBe(false);
    expect(sweepCanPark([{ ...idle, missingRequests: 5, sweeping: true }], 5)).toBe(false);
  });

  test('still idle after the query unless a chunk came or the transfer moved on (the request count no longer matters)', () => {
    expect(isStillIdle({ ...idle, missingRequests: 9 }, 1000, 1000)).toBe(true);
    expect(isStillIdle({ ...idle, lastActivityMs: 500 }, 1000, 1000)).toBe(false);
    expect(isStillIdle({ ...idle, buffered: 2 }, 1000, 1000)).toBe(false);
    expect(isStillIdle({ ...idle, state: 'completing' }, 1000, 1000)).toBe(false);
  });

  test('spec IT-02: stored all but 4 and 9 → ask for [4, 9]; all stored → complete it', () => {
    const stored = [...Array(10).keys()].filter((i) => i !== 4 && i !== 9);
    expect(sweepAction(10, stored)).toEqual({ kind: 'request_missing', chunkIds: [4, 9] });
    expect(sweepAction(10, [...Array(10).keys()])).toEqual({ kind: 'complete' });
  });

  test('property: the request lists absent ids only, ascending, at most a request’s worth; complete only when none is absent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.array(fc.nat(450)), (total, stored) => {
        const have = new Set(stored.filter((id) => id < total));
        const action = sweepAction(total, stored);
        if (action.kind === 'complete') {
          expect(have.size).toBe(total);
          return;
        }
        const absent = [...Array(total).keys()].filter((id) => !have.has(id));
        expect(action.chunkIds).toEqual(absent.slice(0, MISSING_IDS_PER_REQUEST_MAX));
      }),
    );
  });
});
