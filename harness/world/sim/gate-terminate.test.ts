// The gate's pg_terminate_backend (GatedDatabase.terminate): only the slots an owner holds are struck, at the step
// the controller chooses; the next statement there fails with 57P01 as live, what was open on the connection is
// rolled back by Postgres, and the slot is reconnected for its next caller.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { primaryTarget, scratchDatabase } from '../../../test/databases.ts';
import type { ScratchDatabase } from '../../db/scratch-database.ts';
import { isConnectionLoss } from '../../pipeline/store/pool.ts';
import { openGatedDatabase, type GatedDatabase } from './gated-database.ts';

let scratch: ScratchDatabase | undefined;
let admin: pg.Client | undefined;
let gated: GatedDatabase | undefined;
const db = () => gated!;
const adminRows = async (text: string) => (await admin!.query(text)).rows as unknown[];

/** Runs the gate in its simplest order until `done` settles. */
async function drive<T>(done: Promise<T>): Promise<T> {
  let over = false;
  const watched = done.finally(() => (over = true));
  watched.catch(() => {});
  while (!over) if ((await db().runAll()) === 0) await db().settle();
  return watched;
}

beforeAll(async () => {
  const server = primaryTarget().server;
  if (server === null) throw new Error('no database server for tests');
  scratch = await scratchDatabase(server, 'gate_terminate');
  admin = new pg.Client({ connectionString: scratch.url });
  await admin.connect();
  await admin.query('CREATE TABLE t (id int PRIMARY KEY)');
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

describe('gated database: terminate(ownerPrefix)', () => {
  it("fails the owner's open transaction with 57P01 at its next statement and rolls it back; others go on", async () => {
    const pipeline = db().as('camfleet-pipeline-1');
    const observer = db().as('camfleet-ack-observer');
    let struck = () => {};
    const strike = new Promise<void>((resolve) => (struck = resolve));
    const tx = pipeline.transaction(async (t) => {
      await t.query('INSERT INTO t VALUES (1)');
      await strike;
      await t.query('INSERT INTO t VALUES (2)');
    });
    const observing = observer.transaction(async (t) => {
      await t.query('INSERT INTO t VALUES (10)');
      await strike;
      await t.query('INSERT INTO t VALUES (11)');
    });
    // Both transactions are open (their first INSERT ran) when the fault strikes.
    while (db().pending().length > 0 || db().ready().length > 0) await db().runAll();
    expect(db().terminate('camfleet-pipeline')).toBe(1);
    struck();
    const error = await drive(tx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe('57P01');
    expect(isConnectionLoss(error)).toBe(true);
    await drive(observing);
    expect(await adminRows('SELECT id FROM t ORDER BY id')).toEqual([{ id: 10 }, { id: 11 }]);
    // The struck slot serves its next caller on a new connection.
    await drive(pipeline.query('INSERT INTO t VALUES (3)'));
    expect(await adminRows('SELECT id FROM t ORDER BY id')).toEqual([{ id: 3 }, { id: 10 }, { id: 11 }]);
  });

  it('strikes no slot held by nobody or by another owner', async () => {
    expect(db().terminate('camfleet-pipeline')).toBe(0);
    await drive(db().as('other').query('SELECT 1'));
    expect(db().terminate('camfleet-pipeline')).toBe(0);
  });
});
