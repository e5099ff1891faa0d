// The gated database's connections as slots handed out to callers (gated-database.ts): a transaction (or a lone
// statement) takes the lowest free slot, or waits first-come first-served for one — deterministic, so the same
// schedule gives the same slots. A slot carries who holds it (`owner`, as a pool's backends carry their
// application_name), which is what terminate(), the kill-connections fault at the gate, picks slots by.
import { adminShutdownError, type Slot } from './gate-types.ts';

export class GateSlots {
  private readonly waiters: { resolve: (slot: Slot) => void; reject: (error: unknown) => void }[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(readonly all: readonly Slot[]) {}

  /** The lowest free slot now, or the first one given back after the callers already waiting. */
  acquire(owner: string | undefined): Promise<Slot> {
    const free = this.waiters.length === 0 ? this.all.find((s) => !s.held) : undefined;
    if (free !== undefined) {
      free.held = true;
      free.used = false;
      free.owner = owner;
      return Promise.resolve(free);
    }
    return new Promise((resolve, reject) =>
      this.waiters.push({
        resolve: (slot) => {
          slot.owner = owner;
          resolve(slot);
        },
        reject,
      }),
    );
  }

  /** Gives `slot` back: to the first caller waiting (unless `handOn` is false: the database is closing), else free. */
  release(slot: Slot, handOn: boolean): void {
    slot.terminated = undefined; // marked after its last statement: nothing of its owner is left to fail
    const waiter = handOn ? this.waiters.shift() : undefined;
    if (waiter !== undefined) {
      slot.used = false;
      waiter.resolve(slot);
    } else slot.held = false;
    this.notifyIdle();
  }

  /** No slot held, queued, running or marked terminated, and nobody waiting for one: as freshly opened. */
  get idle(): boolean {
    return (
      this.waiters.length === 0 &&
      this.all.every((s) => !s.held && s.queue.length === 0 && s.active === undefined && s.terminated === undefined)
    );
  }

  /** Every caller still waiting for a slot fails with `error`. */
  rejectWaiters(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  /** Resolves once no slot is held. */
  async allFree(): Promise<void> {
    while (this.all.some((s) => s.held)) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * pg_terminate_backend for the gate, at a point the controller's schedule fixes: every slot held now by an owner
   * starting with `ownerPrefix` is marked, and its next statement — released as a step like any other — closes the
   * connection first (Postgres rolls back what was open on it) and fails with 57P01, as the statement a live client
   * sends after the kill does; the slot's later statements fail as on a closed connection, until the slot is handed
   * out again and reconnected. Slots held by nobody are left alone (live, an idle pooled connection killed is
   * replaced unseen). A statement already running or waiting on a lock runs on. Returns the slots marked.
   */
  terminate(ownerPrefix: string): number {
    let marked = 0;
    for (const slot of this.all) {
      if (!slot.held || slot.terminated !== undefined || !(slot.owner ?? '').startsWith(ownerPrefix)) continue;
      slot.terminated = adminShutdownError();
      marked += 1;
    }
    return marked;
  }
}
