// The live world's clock: Date.now and Node's own timers, so code given `realClock` behaves exactly as code that
// calls them directly (delays below 1 ms, timer order and `unref` are Node's).
import type { Clock, SleepOptions, TimerHandle, TimerOptions } from '../clock.ts';

/** A Node timer behind the opaque handle; only realClock makes them, so only it can clear them. */
class RealTimer implements TimerHandle {
  constructor(
    readonly id: number,
    readonly timeout: NodeJS.Timeout,
  ) {}
}

let nextId = 1;

function arm(timeout: NodeJS.Timeout, options: TimerOptions | undefined): RealTimer {
  if (options?.unref === true) timeout.unref();
  return new RealTimer(nextId++, timeout);
}

function clear(handle: TimerHandle | undefined): void {
  // Node's clearTimeout and clearInterval are the same function: either clears either kind.
  if (handle instanceof RealTimer) clearTimeout(handle.timeout);
}

export const realClock: Clock = {
  nowMs: () => Date.now(),
  setTimeout: (fn, afterMs, options) => arm(setTimeout(fn, afterMs), options),
  clearTimeout: clear,
  setInterval: (fn, everyMs, options) => arm(setInterval(fn, everyMs), options),
  clearInterval: clear,
  sleep(ms: number, options: SleepOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const onAbort = () => {
        clear(timer);
        resolve();
      };
      const timer = arm(
        setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms),
        options,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
