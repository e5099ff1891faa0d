// legacy-ttl (PROTOCOL.md §6 edge_chunk_buffer, §7.6): the original's chunk buffer expired 30 minutes after a
// transfer's last chunk while wakes are hours apart, so cross-wake resume lost its progress. This job deletes the
// stored chunks of every unfinished transfer idle for longer than the TTL and lowers received_chunks to what is left
// (I4 catches it); the process forgets it had those chunks, so the device's re-sent chunks are stored again.
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import type { ExpiredTransfer } from './store/legacy.ts';

export interface ChunkExpiryDeps {
  readonly ttlMs: number;
  readonly expire: (ttlMs: number) => Promise<ExpiredTransfer[]>;
  readonly onExpired: (expired: readonly ExpiredTransfer[]) => void;
  readonly log: (line: string) => void;
  /** The expiry job's interval runs on it (the TTL is measured by the database: store/legacy.ts). Default
   *  realClock. */
  readonly clock?: Clock;
  /** How often the job runs. Default a quarter of the TTL, between 25 ms and 1 s. */
  readonly everyMs?: number;
}

export class ChunkExpiry {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private readonly clock: Clock;

  constructor(private readonly deps: ChunkExpiryDeps) {
    this.clock = deps.clock ?? realClock;
  }

  start(): void {
    const everyMs = this.deps.everyMs ?? Math.max(25, Math.min(1000, Math.floor(this.deps.ttlMs / 4)));
    this.timer = this.clock.setInterval(() => void this.run(), everyMs, { unref: true });
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** One pass (single-flight). */
  run(): Promise<void> {
    this.running ??= this.deps
      .expire(this.deps.ttlMs)
      .then(
        (expired) => {
          if (expired.length > 0) this.deps.onExpired(expired);
        },
        (error: unknown) =>
          this.deps.log(`pipeline: chunk expiry failed: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
