// One contract for every Database a world can give the pipeline (world/sql.ts), declared once here and run by
// db-contract.test.ts against the live pg.Pool implementation and the sim world's gated one (in auto mode), each on a
// scratch database of its own — as mqtt-contract.ts is for brokers. What only the gate can show (its controller,
// statement-level interleavings, lock waits reported as blocked) is in sim/gated-*.test.ts.
//
// After abort() or end() a Database refuses every call with DatabaseClosedError (it does not reconnect: a crashed
// pipeline's successor opens a new one). A connection killed under a live Database is replaced: the statement on it
// fails as a connection loss, and the next one runs on a new connection.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isConnectionLoss, retryOnConnectionLoss } from '../pipeline/store/pool.ts';
import { DatabaseClosedError, type Database } from './sql.ts';

export interface DatabaseUnderTest {
  /** The scratch database the implementation works on (the contract's own checks connect there too). */
  readonly url: string;
  /** A new Database on it, its connections named `applicationName`. */
  open(applicationName: string): Promise<Database>;
  /** Drops the scratch database. */
  close(): Promise<void>;
}

const APP = 'camfleet-db-contract';
const WAIT_MS = 20_000;

/** Asserts that `promise` rejects, and returns what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const codeOf = (error: unknown) => (error as { code?: unknown }).code;

export function describeDatabaseContract(name: string, setup: () => Promise<DatabaseUnderTest>): void {
  describe(`Database contract: ${name}`, () => {
    let subject: DatabaseUnderTest | undefined;
    let admin: pg.Client | undefined;
    let db: Database | undefined;
    const current = (): Database => {
      if (db === undefined) throw new Error('no database');
      return db;
    };
    const adminQuery = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
      if (admin === undefined) throw new Error('no admin connection');
      return (await admin.query<R>(text, values)).rows;
    };
    beforeAll(async () => {
      subject = await setup();
      admin = new pg.Client({ connectionString: subject.url, application_name: 'camfleet-db-contract-admin' });
      admin.on('error', () => {});
      await admin.connect();
      await admin.query(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL UNIQUE, note text)`);
    });
    afterAll(async () => {
      await admin?.end().catch(() => {});
      await subject?.close();
    });
    beforeEach(async () => {
      await adminQuery('TRUNCATE items');
      db = await subject!.open(APP);
    });
    afterEach(async () => {
      await db?.abort();
      db = undefined;
    });

    it('runs a statement: rows and rowCount', async () => {
      const r = await current().query<{ one: number; two: string }>(`SELECT 1 AS one, 'two' AS two`);
      expect(r).toEqual({ rows: [{ one: 1, two: 'two' }], rowCount: 1 });
      const ins = await current().query(`INSERT INTO items (id, name) SELECT i, 'n' || i FROM generate_series(1, 3) i`);
      expect(ins.rowCount).toBe(3);
      expect(ins.rows).toEqual([]);
    });

    it('passes parameters, arrays and a named (prepared) statement', async () => {
      const r = await current().query<{ sum: number; t: string; n: number }>(
        'SELECT $1::int + $2::int AS sum, $3::text AS t, cardinality($4::int[]) AS n',
        [40, 2, "it's", [1, 2, 3]],
      );
      expect(r.rows).toEqual([{ sum: 42, t: "it's", n: 3 }]);
      const named = { name: 'camfleet_contract_double', text: 'SELECT $1::int * 2 AS v' };
      for (const v of [1, 2, 3])
        expect((await current().query<{ v: number }>(named, [v])).rows).toEqual([{ v: 2 * v }]);
    });

    it('commits a transaction and returns what its work returned', async () => {
      const got = await current().transaction(async (tx) => {
        await tx.query('INSERT INTO items (id, name) VALUES ($1, $2)', [1, 'a']);
        await tx.query('INSERT INTO items (id, name) VALUES ($1, $2)', [2, 'b']);
        return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0]?.n;
      });
      expect(got).toBe(2);
      expect(await adminQuery('SELECT id, name FROM items ORDER BY id')).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ]);
    });

    it('rolls back on an error of the work and rethrows that very error', async () => {
      const thrown = new Error('work failed');
      const error = await rejection(
        current().transaction(async (tx) => {
          await tx.query('INSERT INTO items (id, name) VALUES (1, $1)', ['a']);
          throw thrown;
        }),
      );
      expect(error).toBe(thrown);
      expect(await adminQuery('SELECT * FROM items')).toEqual([]);
      expect((await current().query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]); // still usable
    });

    it('a failed statement keeps its SQLSTATE: 23505 on a unique violation, 42P10 on ON CONFLICT without a key', async () => {
      await current().query(`INSERT INTO items (id, name) VALUES (1, 'a')`);
      const unique = await rejection(current().query(`INSERT INTO items (id, name) VALUES (2, 'a')`));
      expect(unique).toBeInstanceOf(Error);
      expect(codeOf(unique)).toBe('23505');
      expect((unique as { constraint?: string }).constraint).toBe('items_name_key');
      expect(isConnectionLoss(unique)).toBe(false);
      const noKey = await rejection(
        current().query(`INSERT INTO items (id, name, note) VALUES (3, 'c', 'x') ON CONFLICT (note) DO NOTHING`),
      );
      expect(codeOf(noKey)).toBe('42P10');
      // Inside a transaction: the statement's error is what the transaction rejects with, and nothing is kept.
      const inTx = await rejection(
        current().transaction(async (tx) => {
          await tx.query(`INSERT INTO items (id, name) VALUES (4, 'd')`);
          await tx.query(`INSERT INTO items (id, name) VALUES (5, 'a')`);
        }),
      );
      expect(codeOf(inTx)).toBe('23505');
      expect(await adminQuery('SELECT id FROM items ORDER BY id')).toEqual([{ id: 1 }]);
    });

    it('a transaction waiting on the lock of another one is not a deadlock: both commit, in lock order', async () => {
      await current().query(`INSERT INTO items (id, name, note) VALUES (1, 'a', '')`);
      let releaseFirst: () => void = () => {};
      const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
      const first = current().transaction(async (tx) => {
        await tx.query(`UPDATE items SET note = note || 'first ' WHERE id = 1`);
        await firstMayCommit;
      });
      await untilIdleInTransaction(adminQuery, APP);
      const second = current().transaction(async (tx) => {
        await tx.query(`UPDATE items SET note = note || 'second' WHERE id = 1`);
      });
      await untilLockWait(adminQuery, APP);
      releaseFirst();
      await Promise.all([first, second]);
      expect(await adminQuery('SELECT note FROM items')).toEqual([{ note: 'first second' }]);
    });

    it('abort() fails what runs (a connection loss), its transaction is rolled back; later calls fail clearly', async () => {
      // One statement at a time: the gate lets no other statement run beside a released one.
      const inTx = rejection(
        current().transaction(async (tx) => {
          await tx.query(`INSERT INTO items (id, name) VALUES (1, 'a')`);
          await tx.query('SELECT pg_sleep(30) AS camfleet_contract_sleep');
        }),
      );
      await untilRunning(adminQuery, APP, 'camfleet_contract_sleep');
      await current().abort();
      expect(isConnectionLoss(await inTx)).toBe(true);
      const later = await rejection(current().query('SELECT 1'));
      expect(later).toBeInstanceOf(DatabaseClosedError);
      expect(isConnectionLoss(later)).toBe(false); // so retry loops give up at once
      expect(await rejection(current().transaction(() => Promise.resolve()))).toBeInstanceOf(DatabaseClosedError);
      await current().abort(); // twice is fine
      // A backend notices that its client has gone only when its statement ends; hurry it, then see the rollback
      // through a new Database on the same database.
      await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [APP]);
      await untilNoBackend(adminQuery, APP);
      const next = await subject!.open(APP);
      try {
        expect((await next.query('SELECT count(*)::int AS n FROM items')).rows).toEqual([{ n: 0 }]);
      } finally {
        await next.abort();
      }
    });

    it('a killed connection is replaced: the statement after a connection loss runs on a new backend', async () => {
      const pid = async () => (await current().query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const before = await pid();
      const killed = await adminQuery<{ n: number }>(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1`,
        [APP],
      );
      expect(killed[0]?.n).toBeGreaterThan(0);
      // The first statement may still meet the dying connection (a connection loss); the retry must not.
      const after = await retryOnConnectionLoss(pid, () => {}, 'contract', { attempts: 2 });
      expect(after).not.toBe(before);
    });

    it('end() lets a running statement finish, then refuses new ones', async () => {
      const running = current().query<{ v: number }>('SELECT pg_sleep(0.2), 7 AS v');
      await untilRunning(adminQuery, APP, 'pg_sleep(0.2)');
      await current().end();
      expect((await running).rows[0]?.v).toBe(7);
      expect(await rejection(current().query('SELECT 1'))).toBeInstanceOf(DatabaseClosedError);
    });
  });
}

type AdminQuery = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;

/** Polls pg_stat_activity until `what` holds for a backend of `app` (a broken implementation fails after WAIT_MS). */
async function until(
  q: AdminQuery,
  app: string,
  condition: string,
  what: string,
  values: unknown[] = [],
  holds: (backends: number) => boolean = (n) => n > 0,
): Promise<void> {
  for (let waitedMs = 0; waitedMs < WAIT_MS; waitedMs += 10) {
    const rows = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND ${condition}`,
      [app, ...values],
    );
    if (holds(rows[0]?.n ?? 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const untilIdleInTransaction = (q: AdminQuery, app: string) =>
  until(q, app, `state = 'idle in transaction'`, 'a transaction holding its lock');
/** Until a backend of `app` is running a statement whose text contains `marker`. */
const untilRunning = (q: AdminQuery, app: string, marker: string) =>
  until(q, app, `state = 'active' AND strpos(query, $2) > 0`, `${marker} to run`, [marker]);
const untilNoBackend = (q: AdminQuery, app: string) =>
  until(q, app, 'true', `no backend of ${app}`, [], (n) => n === 0);
const untilLockWait = (q: AdminQuery, app: string) =>
  until(q, app, `wait_event_type = 'Lock'`, 'a statement waiting on a lock');
