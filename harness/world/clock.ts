// The time seam (ARCHITECTURE.md §8): every reading of the time and every timer in the harness goes through a
// Clock that is passed in, so the sim world can substitute a virtual clock that its seeded scheduler advances.
// Live code gets `realClock` (world/live/real-clock.ts) by default and behaves exactly as with Node's timers;
// the sim world's VirtualClock (world/sim/virtual-clock.ts) keeps its timers in a heap and fires them on demand.
// Both are held to one contract (clock.contract.ts).

/** An armed timer, as the clock that armed it knows it. Opaque: only the clock that made it can clear it. */
export interface TimerHandle {
  readonly id: number;
}

export interface TimerOptions {
  /** Live only: this timer does not keep the process alive (Node's `timer.unref()`). A virtual clock ignores it. */
  readonly unref?: boolean;
}

export interface SleepOptions extends TimerOptions {
  /** Aborting resolves the sleep early (it never rejects), and an already aborted signal resolves it at once. */
  readonly signal?: AbortSignal;
}

export interface Clock {
  /** Ms since the Unix epoch (live: Date.now()). Never goes backwards on a virtual clock. */
  nowMs(): number;
  /** Calls `fn` once, `afterMs` from now (a delay below 1 ms, or not a number, counts as 1 ms, as in Node). */
  setTimeout(fn: () => void, afterMs: number, options?: TimerOptions): TimerHandle;
  /** Cancels a timeout or an interval of this clock; undefined or an already fired or cleared handle: nothing. */
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Calls `fn` every `everyMs` (first after `everyMs`) until cleared. */
  setInterval(fn: () => void, everyMs: number, options?: TimerOptions): TimerHandle;
  /** Same as clearTimeout (as in Node, either clears either kind). */
  clearInterval(handle: TimerHandle | undefined): void;
  /** Resolves `ms` from now, or early when `options.signal` aborts. */
  sleep(ms: number, options?: SleepOptions): Promise<void>;
}

/** Node's largest timer delay; longer ones (and non-numbers, and anything below 1 ms) become 1 ms. */
export const TIMER_DELAY_MS_MAX = 2 ** 31 - 1;

/** The delay Node's timers would actually use for `ms` (a virtual clock applies the same rule). */
export function timerDelayMs(ms: number): number {
  return ms >= 1 && ms <= TIMER_DELAY_MS_MAX ? ms : 1;
}

/**
 * Resolves when `promise` settles (either way) or after `ms` on `clock`, whichever comes first; true when it
 * settled in time. The timer does not keep the process alive (a bounded wait must not be the reason it stays up).
 */
export function settledWithin(clock: Clock, promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms, { unref: true });
    const done = () => {
      clock.clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}
