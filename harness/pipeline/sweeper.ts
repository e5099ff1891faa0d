// The missing-chunks sweeper (PROTOCOL.md §4 missing_chunks, §7.8: a real broker drops messages, so the pipeline
// must ask for what it lacks). A transfer with chunks outstanding and no chunk for idleMs gets one request listing
// the absent ids (read from image_chunks, the durable truth), at most requestsMax times. A transfer whose chunks are
// all stored but that is not complete (a completion that failed on a database error) is completed instead. What is
// due and what to do are the core's decisions (core/sweep.ts); this file runs the timer and the query. The timer
// parks while no transfer can become due by time alone (each settled, or asked requestsMax times) and the pipeline
// calls wake() on its next message: only a message can change that, and a fleet asleep for hours then costs no
// ticks (sim mode's virtual clock would otherwise fire them all, one scheduler round each).
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { isDueForSweep, isStillIdle, sweepAction, sweepCanPark } from './core/sweep.ts';
import type { Transfer } from './transfers.ts';

export interface SweeperDeps {
  readonly transfers: () => Iterable<Transfer>;
  readonly storedChunkIds: (imageIds: readonly string[]) => Promise<Map<string, number[]>>;
  /** No chunk for this long → idle (the configured idle time, stretched while delivery lags). */
  readonly idleMs: () => number;
  readonly requestsMax: number;
  /** Idle times are read off it and the sweep interval runs on it. Default realClock. */
  readonly clock?: Clock;
  readonly requestMissing: (t: Transfer, ids: readonly number[]) => void;
  readonly complete: (t: Transfer) => void;
  readonly log: (line: string) => void;
}

const SWEEP_BATCH_MAX = 500;

export class MissingChunksSweeper {
  private timer: TimerHandle | undefined;
  private started = false;
  private running: Promise<void> | undefined;
  private readonly clock: Clock;

  constructor(private readonly deps: SweeperDeps) {
    this.clock = deps.clock ?? realClock;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** The interval is running (not parked, not stopped). */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    this.started = true;
    this.arm();
  }

  /** A message arrived: a parked interval runs again. */
  wake(): void {
    if (this.started && this.timer === undefined) this.arm();
  }

  stop(): void {
    this.started = false;
    this.park();
  }

  private arm(): void {
    const everyMs = Math.max(25, Math.min(1000, Math.floor(this.deps.idleMs() / 4)));
    this.timer = this.clock.setInterval(() => this.tick(), everyMs, { unref: true });
  }

  private park(): void {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.running === undefined && sweepCanPark(this.deps.transfers(), this.deps.requestsMax)) {
      this.park();
      return;
    }
    void this.sweep();
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** One pass (also callable directly). */
  sweep(): Promise<void> {
    if (this.running !== undefined) return this.running;
    const due = this.dueTransfers();
    if (due.length === 0) return Promise.resolve();
    this.running = this.ask(due).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private dueTransfers(): Transfer[] {
    const now = this.clock.nowMs();
    const idleMs = this.deps.idleMs();
    const due: Transfer[] = [];
    for (const t of this.deps.transfers()) {
      if (!isDueForSweep(t, now, idleMs, this.deps.requestsMax)) continue;
      due.push(t);
      if (due.length >= SWEEP_BATCH_MAX) break;
    }
    return due;
  }

  private async ask(due: readonly Transfer[]): Promise<void> {
    for (const t of due) t.sweeping = true;
    const idleMs = this.deps.idleMs();
    try {
      const stored = await this.deps.storedChunkIds(due.map((t) => t.imageId));
      for (const t of due) {
        // Chunks may have arrived while the query ran: they answer the question better than the query did.
        if (!isStillIdle(t, this.clock.nowMs(), idleMs)) continue;
        const action = sweepAction(t.totalChunks, stored.get(t.imageId) ?? []);
        // Either way this counts as one attempt, so a transfer that cannot finish is not retried forever.
        t.missingRequests++;
        t.lastActivityMs = this.clock.nowMs();
        if (action.kind === 'complete') this.deps.complete(t);
        else this.deps.requestMissing(t, action.chunkIds);
      }
    } catch (error) {
      this.deps.log(`pipeline: missing-chunks sweep failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      for (const t of due) t.sweeping = false;
    }
  }
}
