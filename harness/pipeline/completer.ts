// Runs image completions (assemble, verify, commit, then acknowledge) with bounded concurrency, at most one per
// transfer at a time.
import type { Transfer } from './transfers.ts';

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

  /** Completes `t` unless a completion of it is queued or running, or it is already complete. */
  request(t: Transfer): void {
    if (t.state === 'completing' || t.state === 'complete') return;
    t.state = 'completing';
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
          if (t.state === 'completing') t.state = 'receiving';
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
