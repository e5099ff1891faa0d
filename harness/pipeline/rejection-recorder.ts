// Buffers rejected messages and writes them to rejected_messages in batches (one statement per batch). Bounded:
// past maxBuffered rows the oldest are dropped and counted, so a flood of garbage cannot exhaust memory.
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import type { RejectionRow } from './store/rejections.ts';

export interface RejectionRecorderDeps {
  readonly write: (rows: readonly RejectionRow[]) => Promise<void>;
  readonly flushIntervalMs: number;
  readonly log: (line: string) => void;
  readonly maxBuffered?: number;
  readonly maxRowsPerWrite?: number;
  /** The flush timer's clock. Default realClock. */
  readonly clock?: Clock;
}

export class RejectionRecorder {
  private rows: RejectionRow[] = [];
  private timer: TimerHandle | undefined;
  private writing: Promise<void> | undefined;
  private dropped = 0;
  private readonly clock: Clock;

  constructor(private readonly deps: RejectionRecorderDeps) {
    this.clock = deps.clock ?? realClock;
  }

  get busy(): boolean {
    return this.rows.length > 0 || this.writing !== undefined;
  }

  add(row: RejectionRow): void {
    this.rows.push(row);
    const max = this.deps.maxBuffered ?? 10_000;
    if (this.rows.length > max) {
      const excess = this.rows.length - max;
      this.rows.splice(0, excess);
      this.dropped += excess;
      if (this.dropped === excess || this.dropped % 1000 < excess) {
        this.deps.log(`pipeline: rejected_messages buffer full, ${this.dropped} records dropped so far`);
      }
    }
    if (this.timer === undefined && this.writing === undefined) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.deps.flushIntervalMs);
    }
  }

  /** A crash: whatever is buffered is lost (a write in flight may still land). */
  discard(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.rows = [];
  }

  /** Writes everything buffered; resolves when done. */
  async drain(): Promise<void> {
    while (this.busy) {
      if (this.timer !== undefined) {
        this.clock.clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.kick();
      if (this.writing !== undefined) await this.writing;
    }
  }

  private kick(): void {
    if (this.writing !== undefined || this.rows.length === 0) return;
    const batch = this.rows.splice(0, this.deps.maxRowsPerWrite ?? 1000);
    this.writing = this.deps
      .write(batch)
      .catch((error: unknown) => {
        this.deps.log(
          `pipeline: could not record ${batch.length} rejected messages: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => {
        this.writing = undefined;
        if (this.rows.length > 0) this.kick();
      });
  }
}
