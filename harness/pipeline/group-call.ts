// Natural batching of database calls (group commit): requests that arrive while a batch is in flight wait and go
// together in the next one, so a burst of 500 devices costs a few round trips, not 500 — and a lone request is not
// delayed at all. Under load the event loop, not Postgres, sets the round-trip time, so fewer round trips is what
// makes a burst fast.
//
// If a batch fails, its requests are retried one by one, so one bad request cannot fail its neighbours.

interface Pending<Req, Res> {
  readonly req: Req;
  readonly resolve: (res: Res) => void;
  readonly reject: (error: unknown) => void;
}

export interface GroupCallOptions {
  readonly maxBatch: number;
  /** Batches in flight at once. 1 where concurrent batches could lock the same rows in different orders. */
  readonly concurrency: number;
}

export class GroupCall<Req, Res> {
  private pending: Pending<Req, Res>[] = [];
  private inFlight = 0;

  constructor(
    /** Must return one result per request, in order. */
    private readonly run: (reqs: readonly Req[]) => Promise<readonly Res[]>,
    private readonly opts: GroupCallOptions,
  ) {}

  get busy(): boolean {
    return this.inFlight > 0 || this.pending.length > 0;
  }

  call(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.pending.push({ req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.opts.concurrency && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.opts.maxBatch);
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async execute(batch: readonly Pending<Req, Res>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((p) => p.req));
      for (const [i, p] of batch.entries()) {
        if (i < results.length) p.resolve(results[i] as Res);
        else p.reject(new Error('batched call returned too few results'));
      }
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
    }
    for (const p of batch) {
      try {
        const [result] = await this.run([p.req]);
        if (result === undefined) p.reject(new Error('batched call returned no result'));
        else p.resolve(result);
      } catch (error) {
        p.reject(error);
      }
    }
  }
}
