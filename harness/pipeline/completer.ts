// Runs image completions (assemble, verify, commit, then acknowledge) with bounded concurrency, at most one per
// transfer at a time (the transfer state machine's all_stored step says when one is due: core/transfer-state.ts).
import { transferStep, type TransferEvent } from './core/transfer-state.ts';
import type { Transfer } from './transfers.ts';

const ALL_STORED: TransferEvent = { kind: 'all_stored' };
const COMPLETION_FAILED: TransferEvent = { kind: 'completion_failed' };

export class Completer {
  private readonly queue: Transfer[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly complete: (t: Transfer) => Promise<void>,
    private readonly concurrency: number,
  ) {}

  get busy(): boolean {
    return this.active > 0 || this.queue.length > 0;
  }

  /** Every chunk of `t` is stored: completes it, unless a completion of it is queued or running, or it is already
   *  complete. */
  request(t: Transfer): void {
    const step = transferStep(t.state, ALL_STORED);
    t.state = step.state;
    if (!step.requestCompletion) return;
    this.queue.push(t);
    this.pump();
  }

  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.concurrency) {
      const t = this.queue.shift();
      if (t === undefined) break;
      this.active++;
      // `complete` reports its own failures; a throw here is a bug, and must not wedge the queue.
      void this.complete(t)
        .catch(() => {
          if (t.state === 'completing') t.state = transferStep(t.state, COMPLETION_FAILED).state;
        })
        .finally(() => {
          this.active--;
          this.pump();
          if (!this.busy) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }
}
