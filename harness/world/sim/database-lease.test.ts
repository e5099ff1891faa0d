// A lease closes for its owner only: the shared database goes on serving everyone else.
import { describe, expect, test } from 'vitest';
import { DatabaseClosedError, type Database, type SqlResult } from '../sql.ts';
import { leaseDatabase } from './database-lease.ts';

/** A shared database that answers every statement with its text, after `release()` for held ones. */
function fakeShared() {
  const held: (() => void)[] = [];
  let ended = 0;
  const answer = <R>(text: string): SqlResult<R> => ({ rows: [{ text } as R], rowCount: 1 });
  const db: Database = {
    query: <R>(statement: string | { text: string }) => {
      const text = typeof statement === 'string' ? statement : statement.text;
      if (!text.startsWith('HOLD')) return Promise.resolve(answer<R>(text));
      return new Promise<SqlResult<R>>((resolve) => held.push(() => resolve(answer<R>(text))));
    },
    transaction: (work) => work(db),
    abort: () => Promise.resolve(void (ended += 1)),
    end: () => Promise.resolve(void (ended += 1)),
  };
  return { db, held, ended: () => ended };
}

describe('leaseDatabase', () => {
  test('end() lets running calls finish, then refuses; the shared database stays open', async () => {
    const shared = fakeShared();
    const a = leaseDatabase(shared.db);
    const b = leaseDatabase(shared.db);
    const running = a.query('HOLD 1');
    let ended = false;
    const ending = a.end().then(() => (ended = true));
    await new Promise((r) => setImmediate(r));
    expect(ended).toBe(false);
    shared.held[0]?.();
    expect((await running).rows).toEqual([{ text: 'HOLD 1' }]);
    await ending;
    await expect(a.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseClosedError);
    await expect(a.transaction(() => Promise.resolve(1))).rejects.toBeInstanceOf(DatabaseClosedError);
    expect((await b.query('SELECT 2')).rows).toEqual([{ text: 'SELECT 2' }]);
    expect(shared.ended()).toBe(0);
  });

  test('abort() refuses at once with the aborted reason', async () => {
    const shared = fakeShared();
    const a = leaseDatabase(shared.db);
    await a.abort();
    await expect(a.query('SELECT 1')).rejects.toThrow(/aborted/);
    expect(shared.ended()).toBe(0);
  });

  test("abort() mid-transaction: the owner's next statement in it fails, so the shared transaction rolls back", async () => {
    const issued: string[] = [];
    const shared: Database = {
      query: <R>(statement: string | { text: string }) => {
        issued.push(typeof statement === 'string' ? statement : statement.text);
        return Promise.resolve({ rows: [] as R[], rowCount: 0 });
      },
      transaction: async (work) => {
        issued.push('BEGIN');
        try {
          const result = await work(shared);
          issued.push('COMMIT');
          return result;
        } catch (error) {
          issued.push('ROLLBACK');
          throw error;
        }
      },
      abort: () => Promise.resolve(),
      end: () => Promise.resolve(),
    };
    const a = leaseDatabase(shared);
    let crash = () => {};
    const crashed = new Promise<void>((resolve) => (crash = resolve));
    const tx = a.transaction(async (t) => {
      await t.query('UPDATE 1');
      await crashed;
      await t.query('UPDATE 2');
    });
    await new Promise((r) => setImmediate(r));
    await a.abort();
    crash();
    await expect(tx).rejects.toBeInstanceOf(DatabaseClosedError);
    expect(issued).toEqual(['BEGIN', 'UPDATE 1', 'ROLLBACK']);
  });
});
