// Per-device ordering: each device's messages are handled one after another in arrival order (a chunk never
// overtakes its metadata's database work), different devices concurrently. A task that returns no promise runs
// synchronously when its lane is idle — the common chunk path allocates no promise at all.

export type LaneTask = () => void | Promise<void>;

interface Lane {
  readonly queue: LaneTask[];
}

export class Lanes {
  private readonly lanes = new Map<string, Lane>();
  private queued = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly onError: (key: string, error: unknown) => void) {}

  /** Tasks waiting or running, over all lanes. */
  get pending(): number {
    return this.queued;
  }

  get busy(): boolean {
    return this.lanes.size > 0;
  }

  /** Whether `key`'s lane has a task running or waiting. */
  isBusy(key: string): boolean {
    return this.lanes.has(key);
  }

  run(key: string, task: LaneTask): void {
    const lane = this.lanes.get(key);
    if (lane !== undefined) {
      lane.queue.push(task);
      this.queued++;
      return;
    }
    const result = this.attempt(key, task);
    if (result === undefined) return;
    // The task went async: the lane stays open until its queue is drained.
    const opened: Lane = { queue: [] };
    this.lanes.set(key, opened);
    this.queued++;
    void this.drain(key, opened, result);
  }

  /** Resolves when no lane has work. */
  idle(): Promise<void> {
    if (this.lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private attempt(key: string, task: LaneTask): Promise<void> | undefined {
    try {
      const r = task();
      return r instanceof Promise ? r : undefined;
    } catch (error) {
      this.onError(key, error);
      return undefined;
    }
  }

  private async drain(key: string, lane: Lane, first: Promise<void>): Promise<void> {
    let current: Promise<void> | undefined = first;
    for (;;) {
      if (current !== undefined) {
        try {
          await current;
        } catch (error) {
          this.onError(key, error);
        }
      }
      this.queued--;
      const next = lane.queue.shift();
      if (next === undefined) break;
      current = this.attempt(key, next);
    }
    this.lanes.delete(key);
    if (this.lanes.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
