// The gated database's controller (gated-database.ts), in manual mode, on a scratch database of real Postgres: what
// the Database contract (db-contract.ts) cannot show because it holds for pg.Pool as well. The race of two writers
// over every interleaving is in gated-race.test.ts.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { primaryTarget, scratchDatabase } from '../../../test/databases.ts';
import type { ScratchDatabase } from '../../db/scratch-database.ts';
import { DatabaseClosedError } from '../sql.ts';
import { openGatedDatabase, type GatedDatabase } from './gated-database.ts';

let scratch: ScratchDatabase | undefined;
let admin: pg.Client | undefined;
let gated: GatedDatabase | undefined;

const adminRows = async <R extends pg.QueryResultRow>(text: string) => (await admin!.query<R>(text)).rows;
const db = () => gated!;
/** Delivers every ready result, oldest first. */
async function deliverAll(): Promise<void> {
  for (let r = db().ready()[0]; r !== undefined; r = db().ready()[0]) await db().deliver(r);
}
const texts = () =>
  db()
    .pending()
    .map((s) => `${s.slot}: ${s.text}`);

beforeAll(async () => {
  const server = primaryTarget().server;
  if (server === null) throw new Error('no database server for tests');
  scratch = await scratchDatabase(server, 'gated_database');
  admin = new pg.Client({ connectionString: scratch.url });
  await admin.connect();
  await admin.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
});
afterAll(async () => {
  await admin?.end().catch(() => {});
  await scratch?.drop();
});
beforeEach(async () => {
  await admin!.query('TRUNCATE t');
  gated = await openGatedDatabase({ url: scratch!.url, slots: 2, mode: 'manual' });
});
afterEach(async () => {
  await gated?.abort();
});

describe('gated database: the controller decides', () => {
  it('nothing runs until released, and the caller continues only once its result is delivered', async () => {
    let answered = false;
    const insert = db()
      .query(`INSERT INTO t VALUES (1, 'a')`)
      .then((r) => {
        answered = true;
        return r;
      });
    await db().settle();
    expect(db().pending()).toEqual([{ id: 1, slot: 0, text: `INSERT INTO t VALUES (1, 'a')`, values: [] }]);
    expect(await adminRows('SELECT * FROM t')).toEqual([]);

    expect(await db().release(db().pending()[0]!)).toBe('completed');
    expect(await adminRows('SELECT * FROM t')).toEqual([{ id: 1, v: 'a' }]); // committed (autocommit)
    await db().settle();
    expect(answered).toBe(false);
    expect(db().ready()).toEqual([expect.objectContaining({ id: 1, ok: true, rowCount: 1, code: undefined })]);

    await db().deliver(db().ready()[0]!);
    expect(answered).toBe(true);
    expect((await insert).rowCount).toBe(1);
    expect(db().ready()).toEqual([]);
  });

  it('callers continue in the order results are delivered, not the order the server answered', async () => {
    const order: string[] = [];
    const first = db()
      .query('SELECT 1')
      .then(() => order.push('first'));
    const second = db()
      .query('SELECT 2')
      .then(() => order.push('second'));
    await db().settle();
    for (const s of db().pending()) await db().release(s);
    const [r1, r2] = db().ready();
    await db().deliver(r2!);
    await db().deliver(r1!);
    await Promise.all([first, second]);
    expect(order).toEqual(['second', 'first']);
  });

  it("hands out the lowest free slot; a transaction's statements come one at a time; a third waits for a slot", async () => {
    const work = (id: number) =>
      db().transaction(async (tx) => {
        await tx.query(`INSERT INTO t VALUES (${id}, 'x')`);
      });
    const txs = [work(1), work(2), work(3)];
    await db().settle();
    expect(texts()).toEqual(['0: BEGIN', '1: BEGIN']); // the third has no slot yet
    await db().release(db().pending()[0]!);
    await deliverAll();
    expect(texts()).toEqual(['1: BEGIN', `0: INSERT INTO t VALUES (1, 'x')`]); // by arrival
    await db().release(db().pending()[1]!);
    await deliverAll();
    expect(texts()).toEqual(['1: BEGIN', '0: COMMIT']);
    await db().release(db().pending()[1]!);
    await deliverAll();
    // Slot 0 given back: the waiting transaction takes it.
    expect(texts()).toEqual(['1: BEGIN', '0: BEGIN']);
    expect(
      db()
        .pending()
        .map((s) => s.id),
    ).toEqual([2, 5]);
    await db().runAll();
    await Promise.all(txs);
    expect(await adminRows('SELECT id FROM t ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('settling() while a release runs; a second release() is refused, and one not pending at the head of its slot', async () => {
    const q = db().transaction(async (tx) => {
      await tx.query('SELECT 1');
    });
    await db().settle();
    const begin = db().pending()[0]!;
    expect(db().settling()).toBeUndefined();
    const running = db().release(begin);
    const settling = db().settling();
    expect(settling).toBeInstanceOf(Promise);
    await expect(db().release(begin)).rejects.toThrow(/one release\(\) or recheck\(\) at a time/);
    await settling;
    expect(
      db()
        .ready()
        .map((r) => r.text),
    ).toEqual(['BEGIN']); // over once settling() has settled
    expect(db().settling()).toBeUndefined();
    await running;
    await expect(db().release(begin)).rejects.toThrow(/not pending/);
    await db().runAll();
    await q;
  });
});

describe('gated database: lock waits', () => {
  it('a statement waiting on a lock held outside the gate is reported blocked, and completes once it is let go', async () => {
    await admin!.query('BEGIN');
    await admin!.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
    const read = db().query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    await db().settle();
    expect(await db().release(db().pending()[0]!)).toBe('blocked');
    expect(
      db()
        .blocked()
        .map((s) => s.text),
    ).toEqual(['SELECT count(*)::int AS n FROM t']);
    expect(db().pending()).toEqual([]); // its slot is busy
    expect(await db().recheck()).toBe(false); // still waiting
    await admin!.query('COMMIT');
    expect(await db().recheck()).toBe(true);
    expect(db().blocked()).toEqual([]);
    await deliverAll();
    expect((await read).rows).toEqual([{ n: 0 }]);
  });

  it('two gated transactions in a deadlock: both blocked, Postgres ends one (40P01), the other commits', async () => {
    await admin!.query(`INSERT INTO t VALUES (1, ''), (2, '')`);
    const update = (first: number, second: number) =>
      db()
        .transaction(async (tx) => {
          await tx.query(`UPDATE t SET v = v || 'x' WHERE id = ${first}`);
          await tx.query(`UPDATE t SET v = v || 'x' WHERE id = ${second}`);
        })
        .then(
          () => 'committed',
          (error: unknown) => `failed ${String((error as { code?: unknown }).code)}`,
        );
    const a = update(1, 2);
    const b = update(2, 1);
    const next = async (slot: number) => {
      await deliverAll();
      const s = db()
        .pending()
        .find((p) => p.slot === slot);
      if (s === undefined) throw new Error(`nothing pending on slot ${slot}`);
      return db().release(s);
    };
    await db().settle();
    for (const slot of [0, 1, 0, 1]) await next(slot); // BEGIN, BEGIN, A: row 1, B: row 2
    expect(await next(0)).toBe('blocked'); // A: row 2, held by B
    expect(await next(1)).toBe('blocked'); // B: row 1, held by A — a cycle only Postgres can break
    expect(db().pending()).toEqual([]);
    await db().runAll(); // rechecks until the deadlock detector (deadlock_timeout, 1 s) ends one
    expect([await a, await b].sort()).toEqual(['committed', 'failed 40P01']);
    expect(await adminRows('SELECT v FROM t ORDER BY id')).toEqual([{ v: 'x' }, { v: 'x' }]);
  });
});

describe('gated database: abort', () => {
  it('fails what waits at the gate and what waits to be handed back with DatabaseClosedError', async () => {
    const handedBack = db().query('SELECT 1');
    await db().settle();
    await db().release(db().pending()[0]!);
    const atGate = db().query('SELECT 2');
    await db().settle();
    expect(db().ready()).toHaveLength(1);
    expect(db().pending()).toHaveLength(1);
    const refused = [handedBack, atGate].map((p) => expect(p).rejects.toBeInstanceOf(DatabaseClosedError));
    await db().abort();
    await Promise.all(refused);
    expect(db().pending()).toEqual([]);
    expect(db().ready()).toEqual([]);
    await expect(db().runAll()).resolves.toBe(0);
  });
});
