// Chunks that arrived before their route, held until it exists. In a shared subscription (options.sharedGroup) a
// device's metadata and its chunks may reach different consumers, of this process or of another (a shard): a
// chunk can get here before the metadata that opens its transfer has been handled here or committed there. Such a
// chunk waits, per image, outside the device's lane (the metadata may be queued right behind it there), and is
// handed back to the lane once the route is known — bound here, or found in image_transfers — or refused as
// chunk_before_metadata after routeWaitMs, as without a group.
import type { Clock, TimerHandle } from '../world/clock.ts';

/** The first look again after this long, doubling up to the max: a metadata's commit takes a few ms, under load
 *  a few hundred. */
const POLL_FIRST_MS = 5;
const POLL_MAX_MS = 200;

export interface RouteWaitOptions {
  readonly waitMs: number;
  readonly clock: Clock;
  readonly onError: (key: string, error: unknown) => void;
}

/** How much longer than waitMs a wait goes on while its device still has work in this process (see hold()). */
const STILL_COMING_FACTOR = 6;

/** A held chunk: resumed with its route (back to its device's lane), or refused once the wait is over. */
export interface HeldChunk<T> {
  resume(route: T): void;
  refuse(): void;
}

interface Waiting<T> {
  /** Is the route known now (this instance's cache, else the database)? */
  readonly lookup: () => Promise<T | undefined>;
  readonly stillComing: () => boolean;
  readonly sinceMs: number;
  readonly chunks: HeldChunk<T>[];
  pollMs: number;
  timer: TimerHandle | undefined;
}

/** Held chunks by route key; one look-up loop per key, however many chunks wait on it. */
export class RouteWait<T> {
  private readonly waiting = new Map<string, Waiting<T>>();
  private heldCount = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: RouteWaitOptions) {}

  get enabled(): boolean {
    return this.o.waitMs > 0;
  }

  /** Chunks held now (the pipeline's backpressure counts them). */
  get held(): number {
    return this.heldCount;
  }

  get busy(): boolean {
    return this.waiting.size > 0;
  }

  /** Resolves when no chunk is held. */
  idle(): Promise<void> {
    if (this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  isWaiting(key: string): boolean {
    return this.waiting.has(key);
  }

  /**
   * Holds `chunk` until `lookup` (the first chunk's, for every chunk held on `key`) finds the route of `key`, or the
   * wait is over: waitMs, or up to STILL_COMING_FACTOR times that while `stillComing()` says the route may yet come
   * from this process (its device's lane is busy: on a loaded machine a metadata message can sit there, or wait on
   * its commit, longer than waitMs, and refusing its chunks then only adds their re-sends to the load).
   */
  hold(
    key: string,
    chunk: HeldChunk<T>,
    lookup: () => Promise<T | undefined>,
    stillComing: () => boolean = () => false,
  ): void {
    const w = this.waiting.get(key);
    this.heldCount++;
    if (w !== undefined) {
      w.chunks.push(chunk);
      return;
    }
    const opened: Waiting<T> = {
      lookup,
      stillComing,
      sinceMs: this.o.clock.nowMs(),
      chunks: [chunk],
      pollMs: POLL_FIRST_MS,
      timer: undefined,
    };
    this.waiting.set(key, opened);
    this.schedule(key, opened);
  }

  /** A crash or stop: held chunks are dropped (a crash loses them as it loses buffered ones: PROTOCOL §3's
   *  devices re-send what is never acknowledged). */
  stop(): void {
    this.stopped = true;
    for (const w of this.waiting.values()) this.o.clock.clearTimeout(w.timer);
    this.waiting.clear();
    this.heldCount = 0;
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (this.waiting.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(key: string, w: Waiting<T>): void {
    w.timer = this.o.clock.setTimeout(() => void this.poll(key, w), w.pollMs);
    w.pollMs = Math.min(w.pollMs * 2, POLL_MAX_MS);
  }

  private async poll(key: string, w: Waiting<T>): Promise<void> {
    let route: T | undefined;
    try {
      route = await w.lookup();
    } catch (error) {
      this.o.onError(key, error);
    }
    if (this.stopped || this.waiting.get(key) !== w) return;
    const waitedMs = this.o.clock.nowMs() - w.sinceMs;
    const timedOut = waitedMs >= this.o.waitMs * STILL_COMING_FACTOR || (waitedMs >= this.o.waitMs && !w.stillComing());
    if (route === undefined && !timedOut) {
      this.schedule(key, w);
      return;
    }
    this.waiting.delete(key);
    this.heldCount -= w.chunks.length;
    for (const chunk of w.chunks) {
      if (route === undefined) chunk.refuse();
      else chunk.resume(route);
    }
    this.wakeIdle();
  }
}
