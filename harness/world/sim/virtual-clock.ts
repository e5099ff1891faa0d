// The sim world's clock: time is a number that moves only when the owner says so, and timers wait in a heap
// (timer-heap.ts) until it does. Nothing here touches Node's timers, so a run on it is a function of the calls made
// to it: the same calls give the same firings in the same order, however fast the machine is.
//
// Firing is synchronous: fireNext / advanceTo run timer callbacks back to back, and promise continuations a callback
// starts run only after they return. The sim scheduler calls fireNext once every actor is idle (its microtasks
// drained), which is how it keeps "a timer fired" and "what the code did about it" in real-time order.
import { timerDelayMs, type Clock, type SleepOptions, type TimerHandle } from '../clock.ts';
import { TimerHeap, type HeapEntry } from './timer-heap.ts';

interface VirtualTimer extends HeapEntry {
  /** What the caller holds: the same object across an interval's re-armings. */
  readonly handle: TimerHandle;
  readonly fn: () => void;
  /** Intervals only: the period, re-armed after each firing. */
  readonly everyMs: number | undefined;
}

export class VirtualClock implements Clock {
  private now: number;
  private readonly heap = new TimerHeap<VirtualTimer>();
  /** Every timer not yet fired or cleared (an interval stays here while its callback runs), by id. */
  private readonly live = new Map<number, VirtualTimer>();
  private nextId = 1;
  private nextSeq = 0;
  private firing = false;

  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw new RangeError(`VirtualClock: start must be a finite ms, got ${startMs}`);
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  /** Timers armed and neither fired (timeouts) nor cleared. */
  get pendingCount(): number {
    return this.live.size;
  }

  /** When the earliest pending timer is due (undefined: none). */
  nextDueMs(): number | undefined {
    return this.heap.peek()?.dueMs;
  }

  setTimeout(fn: () => void, afterMs: number): TimerHandle {
    return this.arm(fn, this.now + timerDelayMs(afterMs), undefined, this.newHandle());
  }

  setInterval(fn: () => void, everyMs: number): TimerHandle {
    const periodMs = timerDelayMs(everyMs);
    return this.arm(fn, this.now + periodMs, periodMs, this.newHandle());
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const timer = this.live.get(handle.id);
    // Only this clock's own handle clears (a handle of another clock may carry the same id).
    if (timer === undefined || timer.handle !== handle) return;
    this.live.delete(handle.id);
    this.heap.remove(timer);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  sleep(ms: number, options: SleepOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const onAbort = () => {
        this.clearTimeout(timer);
        resolve();
      };
      const timer = this.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Fires the earliest pending timer (ties: the one armed first): now becomes its due time, then its callback runs
   * (an interval is re-armed one period later, unless the callback cleared it). False when nothing is pending.
   * A callback's exception propagates to the caller, after the clock's own state is settled.
   */
  fireNext(): boolean {
    this.enter('fireNext');
    try {
      return this.fireOne();
    } finally {
      this.firing = false;
    }
  }

  /** Fires, in order, every timer due at or before `ms` (those armed meanwhile too), then sets now to `ms`.
   *  A time before now fires nothing and leaves now where it is: time never goes backwards. */
  advanceTo(ms: number): void {
    if (Number.isNaN(ms)) throw new RangeError('VirtualClock: cannot advance to NaN');
    this.enter('advanceTo');
    try {
      for (let due = this.nextDueMs(); due !== undefined && due <= ms; due = this.nextDueMs()) this.fireOne();
      if (ms > this.now) this.now = ms;
    } finally {
      this.firing = false;
    }
  }

  advanceBy(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock: cannot advance by ${ms} ms`);
    this.advanceTo(this.now + ms);
  }

  private enter(what: string): void {
    // A callback that advances the clock would fire timers inside another timer's callback, out of order.
    if (this.firing) throw new Error(`VirtualClock: ${what} called from inside a timer callback`);
    this.firing = true;
  }

  private fireOne(): boolean {
    const timer = this.heap.pop();
    if (timer === undefined) return false;
    if (timer.dueMs > this.now) this.now = timer.dueMs;
    const { handle, everyMs } = timer;
    if (everyMs === undefined) {
      this.live.delete(handle.id);
      timer.fn();
      return true;
    }
    try {
      timer.fn();
    } finally {
      // Re-armed after the callback, as Node does: timers the callback armed for the same instant go first.
      if (this.live.get(handle.id) === timer) this.arm(timer.fn, timer.dueMs + everyMs, everyMs, handle);
    }
    return true;
  }

  private newHandle(): TimerHandle {
    return Object.freeze({ id: this.nextId++ });
  }

  private arm(fn: () => void, dueMs: number, everyMs: number | undefined, handle: TimerHandle): TimerHandle {
    const timer: VirtualTimer = { handle, fn, everyMs, dueMs, seq: this.nextSeq++, index: -1 };
    this.live.set(handle.id, timer);
    this.heap.push(timer);
    return handle;
  }
}
