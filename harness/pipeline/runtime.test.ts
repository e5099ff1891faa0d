// The in-process plumbing of the pipeline: per-device lanes and the chunk batcher (with an in-memory writer).
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { ChunkBatcher, type ChunkBatch } from './chunk-batcher.ts';
import { Lanes } from './lanes.ts';
import type { ImageProgress } from './store/chunks.ts';
import { Transfer } from './transfers.ts';

const tick = (ms = 0) => new Promise<void>((r) => setTimeout(r, ms));

describe('Lanes', () => {
  test('one device in arrival order, sync tasks behind an async one wait; other devices run meanwhile', async () => {
    const errors: unknown[] = [];
    const lanes = new Lanes((_k, e) => errors.push(e));
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    lanes.run('a', async () => {
      await gate;
      log.push('a1');
    });
    lanes.run('a', () => void log.push('a2'));
    lanes.run('b', () => void log.push('b1'));
    lanes.run('a', () => {
      throw new Error('boom');
    });
    lanes.run('a', () => void log.push('a3'));
    expect(log).toEqual(['b1']);
    expect(lanes.pending).toBe(4);
    release();
    await lanes.idle();
    expect(log).toEqual(['b1', 'a1', 'a2', 'a3']);
    expect(errors).toHaveLength(1);
    expect(lanes.pending).toBe(0);
    expect(lanes.busy).toBe(false);
  });

  test('an idle lane runs a sync task at once', () => {
    const lanes = new Lanes(() => {});
    let ran = false;
    lanes.run('x', () => void (ran = true));
    expect(ran).toBe(true);
    expect(lanes.busy).toBe(false);
  });
});

function transfer(id: string, total = 10): Transfer {
  return new Transfer(
    'MAC',
    'fw350',
    'dev',
    'image_1.jpg',
    'image_1.jpg',
    id,
    'ts',
    total * 10,
    total,
    10,
    'receiving',
    0,
  );
}

describe('ChunkBatcher', () => {
  test('one flush at a time, at most maxRows each, everything written once, counters settled', async () => {
    const writes: ChunkBatch[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const b = new ChunkBatcher({
      write: async (batch) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        writes.push(batch);
        await tick(5);
        concurrent--;
        return [] as ImageProgress[];
      },
      flushIntervalMs: 5,
      maxRows: 4,
      onFlushed: () => {},
      onFailed: () => {},
    });
    const t = transfer('img');
    for (let i = 0; i < 10; i++) b.add(t, i, new Uint8Array(10));
    expect(t.buffered).toBe(10);
    await b.drain();
    expect(maxConcurrent).toBe(1);
    expect(writes.every((w) => w.chunkIds.length <= 4)).toBe(true);
    expect(writes.flatMap((w) => w.chunkIds)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.buffered).toBe(0);
    expect(b.busy).toBe(false);
  });

  test('on a virtual clock, a partial batch is written when that clock reaches flushIntervalMs, not before', async () => {
    const clock = new VirtualClock(0);
    const writes: number[][] = [];
    const b = new ChunkBatcher({
      write: (batch) => {
        writes.push([...batch.chunkIds]);
        return Promise.resolve([] as ImageProgress[]);
      },
      flushIntervalMs: 15,
      maxRows: 100,
      onFlushed: () => {},
      onFailed: () => {},
      clock,
    });
    const t = transfer('img');
    b.add(t, 0, new Uint8Array(10));
    b.add(t, 1, new Uint8Array(10));
    expect(clock.nextDueMs()).toBe(15);
    await tick(20); // real time passing changes nothing
    clock.advanceBy(14);
    expect(writes).toEqual([]);
    clock.advanceBy(1);
    expect(writes).toEqual([[0, 1]]);
    await b.drain();
    expect(clock.pendingCount).toBe(0);
  });

  test('a failed write hands the batch back, and the batcher keeps going', async () => {
    const failed: ChunkBatch[] = [];
    let calls = 0;
    const b = new ChunkBatcher({
      write: () => (++calls === 1 ? Promise.reject(new Error('db down')) : Promise.resolve([])),
      flushIntervalMs: 1,
      maxRows: 100,
      onFlushed: () => {},
      onFailed: (batch) => failed.push(batch),
    });
    const t = transfer('img');
    b.add(t, 0, new Uint8Array(10));
    await b.drain();
    b.add(t, 1, new Uint8Array(10));
    await b.drain();
    expect(failed.map((f) => f.chunkIds)).toEqual([[0]]);
    expect(calls).toBe(2);
    expect(t.buffered).toBe(0);
  });
});
