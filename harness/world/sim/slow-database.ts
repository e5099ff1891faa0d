// The slow-database fault in the sim world: what slow-db-proxy.ts does live — every statement the client sends
// reaches the server `delayMs` later — as virtual time on the world's clock in front of a Database (a pipeline's
// lease of the gate). Each statement, BEGIN and COMMIT included, waits `delayMs` before it goes to the gate; the
// slot stays held meanwhile, as the connection does behind a slow link, so locks are held across the delay too.
// No wall time: the scheduler moves the clock when nothing else can happen, so a slow link costs steps, not ms.
import type { Clock } from '../clock.ts';
import type { Database, Sql, SqlResult, Statement } from '../sql.ts';

export function slowDatabase(db: Database, clock: Clock, delayMs: number): Database {
  const slowly = async <R>(sql: Sql, statement: string | Statement, values?: readonly unknown[]) => {
    await clock.sleep(delayMs);
    return sql.query<R>(statement, values);
  };
  return {
    query: <R>(statement: string | Statement, values?: readonly unknown[]): Promise<SqlResult<R>> =>
      slowly<R>(db, statement, values),
    transaction: <T>(work: (tx: Sql) => Promise<T>): Promise<T> =>
      db.transaction(async (tx) => {
        await clock.sleep(delayMs); // BEGIN's trip
        const result = await work({ query: (statement, values) => slowly(tx, statement, values) });
        await clock.sleep(delayMs); // COMMIT's trip
        return result;
      }),
    abort: () => db.abort(),
    end: () => db.end(),
  };
}
