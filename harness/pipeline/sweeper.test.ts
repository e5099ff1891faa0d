// The sweeper's interval parks while every transfer is settled and runs again on wake(): hours without traffic cost
// no ticks on a virtual clock, and a transfer that a message opened again is still swept.
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { MissingChunksSweeper } from './sweeper.ts';
import { Transfer, type TransferState } from './transfers.ts';

const IDLE_MS = 400;

function transfer(state: TransferState, nowMs: number): Transfer {
  return new Transfer(
    'B8F862F9C1C4',
    'fw350',
    'dev',
    'image_1.jpg',
    'image_1.jpg',
    'img-1',
    'ts',
    3000,
    3,
    1024,
    state,
    nowMs,
  );
}

function sweeperOver(clock: VirtualClock, transfers: Transfer[]) {
  const asked: number[][] = [];
  const sweeper = new MissingChunksSweeper({
    transfers: () => transfers,
    storedChunkIds: (ids) => Promise.resolve(new Map(ids.map((id) => [id, [0]]))),
    idleMs: () => IDLE_MS,
    requestsMax: 3,
    clock,
    requestMissing: (_t, ids) => asked.push([...ids]),
    complete: () => {},
    log: () => {},
  });
  return { sweeper, asked };
}

describe('MissingChunksSweeper parks while nothing is in flight', () => {
  test('settled transfers only: one tick, then no timer until wake()', () => {
    const clock = new VirtualClock(0);
    const { sweeper } = sweeperOver(clock, [transfer('complete', 0), transfer('failed', 0)]);
    sweeper.start();
    expect(clock.pendingCount).toBe(1);
    clock.advanceBy(IDLE_MS);
    expect(sweeper.ticking).toBe(false);
    expect(clock.pendingCount).toBe(0);
    clock.advanceBy(12 * 3_600_000); // deep sleep: nothing fires
    sweeper.wake();
    expect(sweeper.ticking).toBe(true);
    expect(clock.pendingCount).toBe(1);
    sweeper.stop();
    expect(clock.pendingCount).toBe(0);
    sweeper.wake(); // stopped: stays stopped
    expect(sweeper.ticking).toBe(false);
  });

  test('a receiving transfer keeps it ticking, and after wake() an idle one is asked for its missing chunks', async () => {
    const clock = new VirtualClock(0);
    const transfers = [transfer('complete', 0)];
    const { sweeper, asked } = sweeperOver(clock, transfers);
    sweeper.start();
    clock.advanceBy(IDLE_MS);
    expect(sweeper.ticking).toBe(false);
    // A message opened a transfer again (metadata): the pipeline wakes the sweeper.
    transfers.push(transfer('receiving', clock.nowMs()));
    sweeper.wake();
    for (let i = 0; i < 5; i++) {
      clock.advanceBy(IDLE_MS / 4);
      await sweeper.idle();
    }
    expect(sweeper.ticking).toBe(true);
    expect(asked).toEqual([[1, 2]]);
  });
});
