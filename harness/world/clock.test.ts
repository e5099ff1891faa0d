// The clock seam: one contract for the real and the virtual clock (clock.contract.ts), then what only each one
// promises — the real clock's unref, the virtual clock's exact, seeded-machine-independent firing order.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createRng } from '../../simulator/random/prng.ts';
import { describeClockContract } from './clock.contract.ts';
import { timerDelayMs, type TimerHandle } from './clock.ts';
import { realClock } from './live/real-clock.ts';
import { VirtualClock } from './sim/virtual-clock.ts';

/** Lets every promise continuation queued so far (and the ones they queue) run. */
const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

describeClockContract('realClock', () => ({
  clock: realClock,
  advance: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  nowResolutionMs: 1,
}));

describeClockContract('VirtualClock', () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 14, 6));
  return {
    clock,
    advance: async (ms) => {
      clock.advanceBy(ms);
      await flushMicrotasks();
    },
    nowResolutionMs: 0,
  };
});

describe('realClock', () => {
  const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  test('an unref timer does not keep the process alive; a plain one does', () => {
    const before = timeouts();
    const unref = realClock.setTimeout(() => {}, 60_000, { unref: true });
    const unrefInterval = realClock.setInterval(() => {}, 60_000, { unref: true });
    expect(timeouts()).toBe(before);
    const plain = realClock.setTimeout(() => {}, 60_000);
    expect(timeouts()).toBe(before + 1);
    for (const t of [unref, unrefInterval, plain]) realClock.clearTimeout(t);
    expect(timeouts()).toBe(before);
  });

  test('nowMs is Date.now', () => {
    const before = Date.now();
    const now = realClock.nowMs();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe('VirtualClock', () => {
  test('fireNext jumps to the earliest due time and runs that one timer; false when nothing is pending', () => {
    const clock = new VirtualClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 500);
    clock.setTimeout(() => fired.push('a'), 200);
    expect(clock.pendingCount).toBe(2);
    expect(clock.nextDueMs()).toBe(1_200);
    expect(clock.fireNext()).toBe(true);
    expect([fired, clock.nowMs(), clock.pendingCount, clock.nextDueMs()]).toEqual([['a'], 1_200, 1, 1_500]);
    expect(clock.fireNext()).toBe(true);
    expect([fired, clock.nowMs()]).toEqual([['a', 'b'], 1_500]);
    expect(clock.fireNext()).toBe(false);
    expect([clock.nowMs(), clock.pendingCount, clock.nextDueMs()]).toEqual([1_500, 0, undefined]);
  });

  test('an interval fires exactly once per period and re-arms itself; advanceTo then sets now', () => {
    const clock = new VirtualClock(0);
    const atMs: number[] = [];
    const interval = clock.setInterval(() => atMs.push(clock.nowMs()), 10);
    clock.advanceTo(35);
    expect(atMs).toEqual([10, 20, 30]);
    expect([clock.nowMs(), clock.pendingCount, clock.nextDueMs()]).toEqual([35, 1, 40]);
    clock.clearInterval(interval);
    expect([clock.pendingCount, clock.nextDueMs()]).toEqual([0, undefined]);
    clock.advanceBy(100);
    expect(atMs).toEqual([10, 20, 30]);
  });

  test('an interval re-armed after its callback: a timer the callback sets for the same instant goes first', () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    const interval = clock.setInterval(() => {
      fired.push(`tick@${clock.nowMs()}`);
      if (fired.length === 1) clock.setTimeout(() => fired.push(`timeout@${clock.nowMs()}`), 10);
    }, 10);
    clock.advanceTo(20);
    clock.clearInterval(interval);
    expect(fired).toEqual(['tick@10', 'timeout@20', 'tick@20']);
  });

  test('timers armed by callbacks fire in the same advance when due by its end, in order', () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push('outer@5');
      clock.setTimeout(() => fired.push(`inner@${clock.nowMs()}`), 3);
      clock.setTimeout(() => fired.push('late'), 100);
    }, 5);
    clock.setTimeout(() => fired.push('other@9'), 9);
    clock.advanceTo(10);
    expect(fired).toEqual(['outer@5', 'inner@8', 'other@9']);
    expect(clock.pendingCount).toBe(1);
  });

  test('delays follow Node: below 1 ms, NaN or past the 32-bit limit they are 1 ms; fractions are kept', () => {
    expect([0, -5, Number.NaN, 2 ** 31, 0.5].map(timerDelayMs)).toEqual([1, 1, 1, 1, 1]);
    expect([1, 2.5, 2 ** 31 - 1].map(timerDelayMs)).toEqual([1, 2.5, 2 ** 31 - 1]);
    const clock = new VirtualClock(100);
    clock.setTimeout(() => {}, 0);
    clock.setTimeout(() => {}, 2.5);
    expect(clock.nextDueMs()).toBe(101);
    clock.fireNext();
    expect(clock.nextDueMs()).toBe(102.5);
  });

  test('time never goes backwards; a negative or NaN advance is refused', () => {
    const clock = new VirtualClock(500);
    let fired = false;
    clock.setTimeout(() => (fired = true), 10);
    clock.advanceTo(100);
    expect([clock.nowMs(), fired]).toEqual([500, false]);
    expect(() => clock.advanceBy(-1)).toThrow(RangeError);
    expect(() => clock.advanceTo(Number.NaN)).toThrow(RangeError);
    expect(() => new VirtualClock(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(clock.nowMs()).toBe(500);
  });

  test('a callback that advances the clock is refused, and the clock goes on', () => {
    const clock = new VirtualClock(0);
    const errors: unknown[] = [];
    clock.setTimeout(() => {
      try {
        clock.advanceBy(5);
      } catch (error) {
        errors.push(error);
      }
    }, 1);
    let later = false;
    clock.setTimeout(() => (later = true), 2);
    clock.advanceTo(10);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/inside a timer callback/);
    expect(later).toBe(true);
  });

  test("a callback's exception reaches the caller; the timer is gone and the next one still fires", () => {
    const clock = new VirtualClock(0);
    let next = false;
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 1);
    clock.setTimeout(() => (next = true), 2);
    expect(() => clock.advanceTo(10)).toThrow('boom');
    expect([clock.nowMs(), clock.pendingCount]).toEqual([1, 1]);
    clock.advanceTo(10);
    expect([next, clock.nowMs()]).toEqual([true, 10]);
  });

  test("sleep is one of its own timers; an abort takes it out; another clock's handle clears nothing", async () => {
    const clock = new VirtualClock(0);
    const other = new VirtualClock(0);
    const controller = new AbortController();
    let woke = 0;
    void clock.sleep(50, { signal: controller.signal }).then(() => woke++);
    void clock.sleep(70).then(() => woke++);
    expect([clock.pendingCount, clock.nextDueMs()]).toEqual([2, 50]);
    const foreign: TimerHandle = other.setTimeout(() => {}, 5);
    clock.clearTimeout(foreign); // the same id (1) as the first sleep's timer, but not this clock's handle
    expect(clock.pendingCount).toBe(2);
    controller.abort();
    expect([clock.pendingCount, clock.nextDueMs()]).toEqual([1, 70]);
    await flushMicrotasks();
    expect(woke).toBe(1);
    clock.advanceBy(70);
    await flushMicrotasks();
    expect(woke).toBe(2);
  });

  test('heap order over many timers: 20,000 set, thousands cleared, fired one by one in (due, set) order', () => {
    const rng = createRng(20_260_114);
    const clock = new VirtualClock(0);
    const fired: number[] = [];
    const set: { i: number; dueMs: number; handle: TimerHandle }[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Few distinct due times, so ties are many; clears interleaved with sets, as code re-arming timers does.
      const afterMs = rng.int(1, 300);
      set.push({ i, dueMs: afterMs, handle: clock.setTimeout(() => fired.push(i), afterMs) });
      if (rng.next() < 0.5) {
        const victim = set[rng.int(0, set.length - 1)]!;
        clock.clearTimeout(victim.handle);
        victim.i = -1;
      }
    }
    const expected = set
      .filter((t) => t.i >= 0)
      .sort((a, b) => a.dueMs - b.dueMs || a.i - b.i)
      .map((t) => t.i);
    expect(clock.pendingCount).toBe(expected.length);
    const dueTimes: number[] = [];
    while (clock.fireNext()) dueTimes.push(clock.nowMs());
    expect(fired).toEqual(expected);
    expect(dueTimes).toEqual([...dueTimes].sort((a, b) => a - b));
  });

  test('any sequence of set / clear / advance fires exactly the uncleared timers due by then, in (due, seq) order', () => {
    type Op =
      | { readonly kind: 'set'; readonly afterMs: number }
      | { readonly kind: 'clear'; readonly pick: number }
      | { readonly kind: 'advance'; readonly byMs: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), afterMs: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('clear' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('advance' as const), byMs: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.array(op, { maxLength: 80 }), (startMs, ops) => {
        const clock = new VirtualClock(startMs);
        const model: { seq: number; dueMs: number; handle: TimerHandle; state: 'pending' | 'cleared' | 'fired' }[] = [];
        let nowMs = startMs;
        let fired: number[] = [];
        for (const o of ops) {
          if (o.kind === 'set') {
            const seq = model.length;
            const handle = clock.setTimeout(() => fired.push(seq), o.afterMs);
            model.push({ seq, dueMs: nowMs + Math.max(1, o.afterMs), handle, state: 'pending' });
          } else if (o.kind === 'clear') {
            const t = model[o.pick % Math.max(1, model.length)];
            if (t === undefined) continue;
            clock.clearTimeout(t.handle);
            if (t.state === 'pending') t.state = 'cleared';
          } else {
            nowMs += o.byMs;
            const due = model
              .filter((t) => t.state === 'pending' && t.dueMs <= nowMs)
              .sort((a, b) => a.dueMs - b.dueMs || a.seq - b.seq);
            fired = [];
            clock.advanceBy(o.byMs);
            expect(fired).toEqual(due.map((t) => t.seq));
            for (const t of due) t.state = 'fired';
            expect(clock.nowMs()).toBe(nowMs);
          }
          const pending = model.filter((t) => t.state === 'pending');
          expect(clock.pendingCount).toBe(pending.length);
          expect(clock.nextDueMs()).toBe(pending.length === 0 ? undefined : Math.min(...pending.map((t) => t.dueMs)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
