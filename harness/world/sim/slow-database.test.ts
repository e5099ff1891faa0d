// The sim world's slow link: each statement (BEGIN and COMMIT too) reaches the database delayMs of virtual time later.
import { describe, expect, test } from 'vitest';
import type { Database, Sql, SqlResult } from '../sql.ts';
import { slowDatabase } from './slow-database.ts';
import { VirtualClock } from './virtual-clock.ts';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('slowDatabase', () => {
  test('statements arrive delayMs of virtual time late; a transaction pays BEGIN, each statement and COMMIT', async () => {
    const clock = new VirtualClock(0);
    const arrived: string[] = [];
    const inner: Sql = {
      query: <R>(statement: string | { text: string }) => {
        arrived.push(`${clock.nowMs()} ${typeof statement === 'string' ? statement : statement.text}`);
        return Promise.resolve({ rows: [] as R[], rowCount: 0 } satisfies SqlResult<R>);
      },
    };
    const db: Database = {
      ...inner,
      transaction: async (work) => {
        arrived.push(`${clock.nowMs()} BEGIN`);
        const result = await work(inner);
        arrived.push(`${clock.nowMs()} COMMIT`);
        return result;
      },
      abort: () => Promise.resolve(),
      end: () => Promise.resolve(),
    };
    const slow = slowDatabase(db, clock, 30);
    const lone = slow.query('SELECT 1');
    await flush();
    expect(arrived).toEqual([]);
    clock.advanceTo(30);
    await lone;
    const tx = slow.transaction(async (t) => {
      await t.query('UPDATE a');
      await t.query('UPDATE b');
    });
    for (let ms = 60; ms <= 150; ms += 30) {
      await flush();
      clock.advanceTo(ms);
    }
    await tx;
    expect(arrived).toEqual(['30 SELECT 1', '30 BEGIN', '90 UPDATE a', '120 UPDATE b', '150 COMMIT']);
  });
});
