// The sim world's database (world/sql.ts) over REAL Postgres: a fixed set of pre-connected connections ("slots"),
// and a gate in front of them. Every statement — BEGIN, COMMIT and ROLLBACK included — waits at the gate until the
// controller releases it; it then runs alone, and its result waits again until the controller delivers it. So the
// order in which concurrent callers continue is the controller's choice, not the socket's, while constraints,
// ON CONFLICT, plpgsql and lock waits stay Postgres' own (ARCHITECTURE.md §2 "sim").
//
// - Slots are handed out deterministically (gate-slots.ts, which also strikes an owner's slots for the kill fault).
//   One slot is one connection: statements of a transaction run in order.
// - A released statement that waits on a lock would stall a controller that waits for it. While it runs, the gate
//   asks the server (pg_blocking_pids of its backend, on a connection of its own) and reports it `blocked`, so the
//   controller can release another slot's statement — typically the COMMIT that unblocks it. After every released
//   statement completes, each blocked one is watched again, oldest first, until it has completed or is still
//   blocked, and this is repeated while any completed: a statement unblocked by a COMMIT is noticed at that point,
//   deterministically, not whenever its socket happens to answer. (Two statements unblocked by one COMMIT run side
//   by side, as Postgres lets them; one that then waits on the other is seen blocked again.)
// - Controller API, for the seeded scheduler: pending() (releasable statements, by arrival), release(s), ready()
//   (results not yet handed back, by arrival), deliver(r), blocked(), recheck(), settling(); runAll() and mode 'auto' (the
//   default) do it in the simplest order: deliver everything ready, else release the oldest pending.
// - Wall time is used on purpose here, and only to wait for the real server (polling a running statement, the
//   bounded wait of abort()); the callers' time is the sim world's clock, never this.
import type pg from 'pg';
import { settledWithin } from '../clock.ts';
import { realClock } from '../live/real-clock.ts';
import { DatabaseClosedError, statementText, type Database, type Sql, type SqlResult, type Statement } from '../sql.ts';
import { GateConnection } from './gate-connection.ts';
import { GateSlots } from './gate-slots.ts';
import {
  view,
  type Entry,
  type GatedDatabaseOptions,
  type GatedResult,
  type GatedStatement,
  type Outcome,
  type ReleaseOutcome,
  type Slot,
} from './gate-types.ts';
import { drainMicrotasks } from './scheduler.ts';

export type { GatedDatabaseOptions, GatedResult, GatedStatement, ReleaseOutcome } from './gate-types.ts';

/** Polls of a running statement start at 1 ms apart and slow to this. */
const POLL_MS_MAX = 10;
/** How long runAll waits before asking again when every statement is blocked (e.g. on a lock outside the gate). */
const ALL_BLOCKED_WAIT_MS = 5;

export async function openGatedDatabase(options: GatedDatabaseOptions): Promise<GatedDatabase> {
  const db = new GatedDatabase(options);
  try {
    await db.connect();
  } catch (error) {
    await db.abort().catch(() => {});
    throw error;
  }
  return db;
}

export class GatedDatabase implements Database {
  private readonly slots: Slot[];
  /** Asks the server whether a statement waits on a lock; never a slot, never named like the pipeline. */
  private readonly watcher: GateConnection;
  private readonly entries = new Map<number, Entry>();
  private readonly handout: GateSlots;
  private nextId = 1;
  private stepping = false;
  /** The release() or recheck() under way, settled either way (settling()). */
  private current: Promise<void> | undefined;
  private autoQueued = false;
  private closed: 'aborted' | 'ended' | undefined;
  private readonly mode: 'auto' | 'manual';

  constructor(private readonly options: GatedDatabaseOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new Error('gated database: slots must be ≥ 1');
    this.mode = options.mode ?? 'auto';
    const connection = (applicationName: string | undefined) =>
      new GateConnection({
        url: options.url,
        ...(applicationName === undefined ? {} : { applicationName }),
        ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeoutMs: options.connectionTimeoutMs }),
      });
    this.slots = Array.from({ length: options.slots }, (_, index) => ({
      index,
      connection: connection(options.applicationName),
      held: false,
      used: false,
      queue: [],
      active: undefined,
      owner: undefined,
      terminated: undefined,
    }));
    this.handout = new GateSlots(this.slots);
    this.watcher = connection('camfleet-gate-watcher');
  }

  /** Opens every connection (openGatedDatabase calls it); side by side, as nothing runs on them yet. */
  async connect(): Promise<void> {
    await Promise.all([this.watcher.reconnect(), ...this.slots.map((slot) => slot.connection.reconnect())]);
  }

  /**
   * Nothing at the gate and no slot held, and still open: what a fresh gate is to its next user (a sweep's next
   * run, gate-source.ts). Statement ids go on counting, which nothing outside the gate sees (schedule labels name
   * slots and verbs, gated-steps.ts).
   */
  get reusable(): boolean {
    return this.closed === undefined && !this.stepping && this.entries.size === 0 && this.handout.idle;
  }

  // ---- the Database seam -----------------------------------------------------------------------------------------

  async query<R>(statement: string | Statement, values?: readonly unknown[], owner?: string): Promise<SqlResult<R>> {
    this.refuseIfClosed();
    const slot = await this.handout.acquire(owner);
    try {
      return await this.enqueue<R>(slot, statement, values);
    } finally {
      this.handout.release(slot, this.closed === undefined);
    }
  }

  async transaction<T>(work: (tx: Sql) => Promise<T>, owner?: string): Promise<T> {
    this.refuseIfClosed();
    const slot = await this.handout.acquire(owner);
    const tx: Sql = { query: (statement, values) => this.enqueue(slot, statement, values) };
    try {
      await tx.query('BEGIN');
      const result = await work(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      await tx.query('ROLLBACK').catch(() => {}); // a broken connection is replaced when the slot is next used
      throw error;
    } finally {
      this.handout.release(slot, this.closed === undefined);
    }
  }

  /**
   * This database as one actor sees it: the slots it takes are marked `owner` (what terminate() picks, as
   * application_name picks backends live). Its abort() and end() do nothing: the gate is the world's, and an
   * actor's share of it ends with its lease (database-lease.ts).
   */
  as(owner: string): Database {
    return {
      query: (statement, values) => this.query(statement, values, owner),
      transaction: (work) => this.transaction(work, owner),
      abort: () => Promise.resolve(),
      end: () => Promise.resolve(),
    };
  }

  /** The kill-connections fault at the gate: GateSlots.terminate (gate-slots.ts). */
  terminate(ownerPrefix: string): number {
    return this.handout.terminate(ownerPrefix);
  }

  abort(timeoutMs = 2000): Promise<void> {
    return this.crash(new DatabaseClosedError('aborted'), timeoutMs);
  }

  /**
   * abort(), or the gate itself failing under auto mode (the server gone): `error` goes to every caller whose
   * statement was not sent or whose answer was not handed back; what runs fails with its connection's own error
   * once the socket closes (see answer()).
   */
  private async crash(error: unknown, timeoutMs = 2000): Promise<void> {
    if (this.closed === 'aborted') return;
    this.closed = 'aborted';
    this.handout.rejectWaiters(error);
    for (const e of [...this.entries.values()]) {
      if (e.state === 'pending' || e.state === 'ready') this.handBack(e, { ok: false, error });
    }
    for (const slot of this.slots) slot.queue.length = 0;
    const closing = Promise.all([...this.slots.map((s) => s.connection.close()), this.watcher.close()]);
    await settledWithin(realClock, closing, timeoutMs);
    this.handout.notifyIdle();
  }

  /** Refuses new work, waits until every slot is given back (in manual mode the controller must keep going). */
  async end(): Promise<void> {
    if (this.closed !== undefined) return;
    this.closed = 'ended';
    this.handout.rejectWaiters(new DatabaseClosedError('ended'));
    await this.handout.allFree();
    await Promise.all([...this.slots.map((s) => s.connection.close()), this.watcher.close()]);
  }

  // ---- the controller --------------------------------------------------------------------------------------------

  /** Statements that may be released now, in arrival order: the first waiting one of each slot not busy. */
  pending(): GatedStatement[] {
    const heads: Entry[] = [];
    for (const slot of this.slots) {
      const head = slot.queue[0];
      if (head !== undefined && slot.active === undefined) heads.push(head);
    }
    return heads.sort((a, b) => a.id - b.id).map(view);
  }

  /** Statements on the server that wait on a lock, in arrival order. */
  blocked(): GatedStatement[] {
    return this.inState('blocked').map(view);
  }

  /** Finished statements whose results wait to be handed back, in arrival order. */
  ready(): GatedResult[] {
    return this.inState('ready').map((e) => {
      const o = e.outcome;
      const code = o !== undefined && !o.ok ? (o.error as { code?: unknown }).code : undefined;
      return {
        ...view(e),
        ok: o?.ok === true,
        rowCount: o?.ok === true ? o.result.rowCount : 0,
        code: typeof code === 'string' ? code : undefined,
      };
    });
  }

  /**
   * Runs one pending statement alone and resolves once it has completed (its result is then in ready(), and every
   * blocked statement has been watched again) or waits on a lock (it is then in blocked()). One at a time.
   */
  release(statement: GatedStatement): Promise<ReleaseOutcome> {
    return this.step(async () => {
      const e = this.entries.get(statement.id);
      if (e === undefined || e.state !== 'pending' || e.slotRef.queue[0] !== e || e.slotRef.active !== undefined)
        throw new Error(`gate: statement ${statement.id} is not pending at the head of its slot`);
      const slot = e.slotRef;
      slot.queue.shift();
      slot.active = e;
      e.state = 'running';
      const terminated = slot.terminated;
      if (terminated !== undefined) {
        slot.terminated = undefined;
        await slot.connection.close();
        this.answer(e, { ok: false, error: terminated });
      } else if (slot.connection.broken && !slot.used) {
        await slot.connection.reconnect().catch((error: unknown) => this.answer(e, { ok: false, error }));
      }
      slot.used = true;
      if (e.outcome === undefined && this.options.beforeRelease !== undefined)
        await this.options.beforeRelease((text, values) => this.onWatcher(text, values));
      if (e.outcome === undefined) this.send(e);
      const outcome = await this.watch(e);
      if (outcome === 'completed') await this.watchBlocked();
      return outcome;
    });
  }

  /** Hands one result back to its caller, then lets the caller run on (so what it sends next is pending). */
  async deliver(result: GatedResult): Promise<void> {
    const e = this.entries.get(result.id);
    if (e?.state !== 'ready' || e.outcome === undefined) throw new Error(`gate: result ${result.id} is not ready`);
    this.handBack(e, e.outcome);
    await drainMicrotasks();
  }

  /**
   * The release() or recheck() under way — real work in Postgres whose end the controller does not choose — as a
   * promise that settles (never rejects) once it is over, or undefined when none runs. A scheduler that starts a
   * release without awaiting it waits on this before it looks at pending() and ready() again.
   */
  settling(): Promise<void> | undefined {
    return this.current;
  }

  /** Lets callers run on: resolves once what they send in response to their results is at the gate. */
  settle(): Promise<void> {
    return drainMicrotasks();
  }

  /** Watches every blocked statement again (a lock held outside the gate may have gone); true if any completed. */
  recheck(): Promise<boolean> {
    return this.step(() => this.watchBlocked());
  }

  /** Delivers everything ready, else releases the oldest pending, until nothing is left; returns the steps taken. */
  async runAll(): Promise<number> {
    let steps = 0;
    for (;;) {
      await drainMicrotasks();
      const result = this.ready()[0];
      const next = this.pending()[0];
      if (result !== undefined) await this.deliver(result);
      else if (next !== undefined) await this.release(next);
      else if (this.inState('blocked').length > 0) {
        // Every statement waits on a lock the gate does not control (or Postgres' deadlock detector is about to
        // end one): ask again shortly, as a blocked client would simply go on waiting.
        if (!(await this.recheck())) await realClock.sleep(ALL_BLOCKED_WAIT_MS);
        continue;
      } else return steps;
      steps++;
    }
  }

  // ---- inside ----------------------------------------------------------------------------------------------------

  private refuseIfClosed(): void {
    if (this.closed !== undefined) throw new DatabaseClosedError(this.closed);
  }

  private enqueue<R>(slot: Slot, statement: string | Statement, values?: readonly unknown[]): Promise<SqlResult<R>> {
    if (this.closed === 'aborted') return Promise.reject(new DatabaseClosedError('aborted'));
    return new Promise<SqlResult<R>>((resolve, reject) => {
      let markAnswered = () => {};
      const answered = new Promise<void>((r) => (markAnswered = r));
      const e: Entry = {
        id: this.nextId++,
        slot: slot.index,
        text: statementText(statement),
        values: values ?? [],
        statement,
        slotRef: slot,
        state: 'pending',
        outcome: undefined,
        answered,
        markAnswered,
        resolve: resolve as (result: SqlResult<unknown>) => void,
        reject,
      };
      this.entries.set(e.id, e);
      slot.queue.push(e);
      this.autoStep();
    });
  }

  private send(e: Entry): void {
    const config: pg.QueryConfig = typeof e.statement === 'string' ? { text: e.statement } : { ...e.statement };
    if (e.values.length > 0) config.values = e.values as unknown[];
    e.slotRef.connection.send(config).then(
      (r) => this.answer(e, { ok: true, result: { rows: r.rows, rowCount: r.rowCount ?? 0 } }),
      (error: unknown) => this.answer(e, { ok: false, error }),
    );
  }

  /** The server answered. After abort() nobody controls the gate: the answer goes straight to the caller. */
  private answer(e: Entry, outcome: Outcome): void {
    if (e.outcome !== undefined) return;
    e.outcome = outcome;
    e.markAnswered();
    if (this.closed === 'aborted' && e.state !== 'done') this.handBack(e, outcome);
  }

  /** Waits until `e` has been answered (→ ready) or is seen waiting on a lock (→ blocked). */
  private async watch(e: Entry): Promise<ReleaseOutcome> {
    for (let attempt = 1; ; attempt++) {
      if (await settledWithin(realClock, e.answered, Math.min(attempt, POLL_MS_MAX))) return this.finish(e);
      const waiting = await this.waitsOnLock(e.slotRef.connection.pid);
      if (e.outcome !== undefined) return this.finish(e);
      if (waiting) {
        e.state = 'blocked';
        return 'blocked';
      }
    }
  }

  /** Blocked statements watched again, oldest first, as long as one of them completes. */
  private async watchBlocked(): Promise<boolean> {
    let any = false;
    for (let changed = true; changed;) {
      changed = false;
      for (const e of this.inState('blocked')) {
        if ((await this.watch(e)) === 'completed') changed = any = true;
      }
    }
    return any;
  }

  private async onWatcher(text: string, values: readonly unknown[]): Promise<void> {
    if (this.watcher.broken) await this.watcher.reconnect();
    await this.watcher.send({ text, values: [...values] });
  }

  private async waitsOnLock(pid: number): Promise<boolean> {
    if (this.closed === 'aborted') throw new DatabaseClosedError('aborted');
    if (this.watcher.broken) await this.watcher.reconnect();
    const { rows } = await this.watcher.send({
      text: 'SELECT cardinality(pg_blocking_pids($1)) > 0 AS waiting',
      values: [pid],
    });
    return (rows[0] as { waiting?: boolean } | undefined)?.waiting === true;
  }

  private finish(e: Entry): ReleaseOutcome {
    if (e.state !== 'done') e.state = 'ready';
    if (e.slotRef.active === e) e.slotRef.active = undefined;
    return 'completed';
  }

  private handBack(e: Entry, outcome: Outcome): void {
    e.state = 'done';
    this.entries.delete(e.id);
    const queued = e.slotRef.queue.indexOf(e);
    if (queued >= 0) e.slotRef.queue.splice(queued, 1);
    if (e.slotRef.active === e) e.slotRef.active = undefined;
    if (outcome.ok) e.resolve(outcome.result);
    else e.reject(outcome.error);
  }

  /** release() and recheck() never overlap: a statement runs alone, and the watcher serves one question at a time. */
  private async step<T>(work: () => Promise<T>): Promise<T> {
    if (this.stepping) throw new Error('gate: one release() or recheck() at a time');
    if (this.closed === 'aborted') throw new DatabaseClosedError('aborted');
    this.stepping = true;
    let over = () => {};
    this.current = new Promise<void>((resolve) => (over = resolve));
    try {
      return await work();
    } finally {
      // Settled only once the gate may step again, so whoever waits on settling() can release at once.
      this.stepping = false;
      this.current = undefined;
      over();
    }
  }

  /** Auto mode: one runAll per burst of arrivals, after the callers of this turn have sent what they will. */
  private autoStep(): void {
    if (this.mode !== 'auto' || this.autoQueued) return;
    this.autoQueued = true;
    void (async () => {
      await drainMicrotasks();
      try {
        if (!this.stepping && this.closed !== 'aborted') await this.runAll();
      } catch (error) {
        // The server or the watcher failed under the gate: nothing can run any more, so fail what waits with why.
        await this.crash(error);
      } finally {
        this.autoQueued = false;
        if (this.closed !== 'aborted' && (this.pending().length > 0 || this.ready().length > 0)) this.autoStep();
      }
    })();
  }

  private inState(state: Entry['state']): Entry[] {
    return [...this.entries.values()].filter((e) => e.state === state).sort((a, b) => a.id - b.id);
  }
}
