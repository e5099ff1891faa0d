// The clock contract: what code given a Clock may rely on, whichever world it runs in. clock.test.ts runs it
// against the real clock (advance = a real wait) and the virtual clock (advance = advanceBy, then a microtask
// flush), as aedes-persistence's abstract tests are run against every backend. The assertions are about order and
// lower bounds only: a real timer may fire late on a loaded machine, never early, and never out of order.
import { afterEach, describe, expect, test } from 'vitest';
import type { Clock, TimerHandle } from './clock.ts';

export interface ClockUnderTest {
  readonly clock: Clock;
  /** Lets `ms` of this clock's time pass (and the callbacks and promise continuations due by then run). */
  advance(ms: number): Promise<void>;
  /**
   * How far a timer may appear to fire before its time by `nowMs()`. Real: 1, as Node's timers run on libuv's
   * monotonic ms while Date.now rounds the wall clock on its own. Virtual: 0.
   */
  readonly nowResolutionMs: number;
}

/** Real time on a shared machine is uneven: wait in small steps until `done()`, at most `maxSteps` of them. */
async function advanceUntil(c: ClockUnderTest, done: () => boolean, stepMs = 5, maxSteps = 2_000): Promise<void> {
  for (let i = 0; i < maxSteps && !done(); i++) await c.advance(stepMs);
}

export function describeClockContract(name: string, make: () => ClockUnderTest): void {
  describe(`Clock contract: ${name}`, () => {
    let armed: TimerHandle[] = [];
    let c: ClockUnderTest;
    /** clock.setTimeout, cleared after the test whatever happens (a failed test must not leave real timers). */
    const arm = (fn: () => void, ms: number) => {
      const handle = c.clock.setTimeout(fn, ms);
      armed.push(handle);
      return handle;
    };
    const setUp = () => {
      c = make();
      armed = [];
      return c;
    };
    afterEach(() => {
      for (const handle of armed) c.clock.clearTimeout(handle);
    });

    test('timers fire in the order they are due, not the order they were set', async () => {
      setUp();
      const fired: string[] = [];
      arm(() => fired.push('30'), 30);
      arm(() => fired.push('10'), 10);
      arm(() => fired.push('20'), 20);
      arm(() => fired.push('20b'), 20);
      await advanceUntil(c, () => fired.length === 4);
      expect(fired).toEqual(['10', '20', '20b', '30']);
    });

    test('timers due at the same time fire in the order they were set', async () => {
      setUp();
      const fired: number[] = [];
      for (let i = 0; i < 20; i++) arm(() => fired.push(i), 15);
      await advanceUntil(c, () => fired.length === 20);
      expect(fired).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    test('a cleared timer never fires; clearing undefined, twice or after firing does nothing', async () => {
      const { clock } = setUp();
      const fired: string[] = [];
      const cleared = arm(() => fired.push('cleared'), 10);
      const firedFirst = arm(() => fired.push('first'), 5);
      arm(() => fired.push('last'), 40);
      clock.clearTimeout(cleared);
      clock.clearTimeout(cleared);
      clock.clearTimeout(undefined);
      await advanceUntil(c, () => fired.length === 1);
      clock.clearTimeout(firedFirst);
      await advanceUntil(c, () => fired.length === 2);
      await c.advance(20);
      expect(fired).toEqual(['first', 'last']);
    });

    test('a timer cleared by an earlier callback due at the same time does not fire', async () => {
      const { clock } = setUp();
      const fired: string[] = [];
      arm(() => {
        fired.push('first');
        clock.clearTimeout(second); // declared below: the callback runs long after
      }, 10);
      const second = arm(() => fired.push('second'), 10);
      arm(() => fired.push('third'), 10);
      await advanceUntil(c, () => fired.length === 2);
      await c.advance(20);
      expect(fired).toEqual(['first', 'third']);
    });

    test('an interval repeats, each time at least a period after the last, until it is cleared', async () => {
      const { clock } = setUp();
      const atMs: number[] = [];
      const startMs = clock.nowMs();
      const interval = clock.setInterval(() => atMs.push(clock.nowMs()), 10);
      armed.push(interval);
      await advanceUntil(c, () => atMs.length >= 3);
      clock.clearInterval(interval);
      const count = atMs.length;
      await c.advance(50);
      expect(atMs.length).toBe(count);
      expect(count).toBeGreaterThanOrEqual(3);
      for (let i = 0; i < atMs.length; i++) {
        expect(atMs[i]! - startMs).toBeGreaterThanOrEqual(10 * (i + 1) - c.nowResolutionMs);
      }
    });

    test('an interval cleared from its own callback does not fire again', async () => {
      const { clock } = setUp();
      let count = 0;
      const interval: TimerHandle = clock.setInterval(() => {
        count++;
        if (count === 2) clock.clearInterval(interval);
      }, 5);
      armed.push(interval);
      await advanceUntil(c, () => count >= 2);
      await c.advance(40);
      expect(count).toBe(2);
    });

    test('nowMs never goes back, and has moved at least afterMs when a timer fires', async () => {
      const { clock } = setUp();
      const readings: number[] = [clock.nowMs()];
      const late: number[] = [];
      let fired = 0;
      for (const afterMs of [1, 3, 7, 12, 12, 20, 33]) {
        const setAtMs = clock.nowMs();
        arm(() => {
          const elapsedMs = clock.nowMs() - setAtMs;
          late.push(elapsedMs - afterMs);
          readings.push(clock.nowMs());
          fired++;
        }, afterMs);
      }
      await advanceUntil(c, () => fired === 7, 2);
      readings.push(clock.nowMs());
      for (let i = 1; i < readings.length; i++) expect(readings[i]).toBeGreaterThanOrEqual(readings[i - 1]!);
      for (const ms of late) expect(ms).toBeGreaterThanOrEqual(-c.nowResolutionMs);
    });

    test('a timer set from a callback fires afterMs after that callback, not after the first one was set', async () => {
      const { clock } = setUp();
      const startMs = clock.nowMs();
      let innerAtMs: number | undefined;
      arm(() => {
        arm(() => (innerAtMs = clock.nowMs()), 10);
      }, 10);
      await advanceUntil(c, () => innerAtMs !== undefined);
      expect(innerAtMs! - startMs).toBeGreaterThanOrEqual(20 - 2 * c.nowResolutionMs);
    });

    test('sleep resolves no earlier than ms later', async () => {
      const { clock } = setUp();
      const startMs = clock.nowMs();
      let wokeAtMs: number | undefined;
      void clock.sleep(25).then(() => (wokeAtMs = clock.nowMs()));
      await advanceUntil(c, () => wokeAtMs !== undefined);
      expect(wokeAtMs! - startMs).toBeGreaterThanOrEqual(25 - c.nowResolutionMs);
    });

    test('sleep resolves early, without rejecting, when its signal aborts (or was aborted already)', async () => {
      const { clock } = setUp();
      const controller = new AbortController();
      let outcome: 'woke' | 'rejected' | undefined;
      clock.sleep(600_000, { signal: controller.signal }).then(
        () => (outcome = 'woke'),
        () => (outcome = 'rejected'),
      );
      await c.advance(5);
      expect(outcome).toBeUndefined();
      controller.abort();
      await c.advance(0);
      expect(outcome).toBe('woke');
      let early = false;
      void clock.sleep(600_000, { signal: controller.signal }).then(() => (early = true));
      await c.advance(0);
      expect(early).toBe(true);
    });
  });
}
