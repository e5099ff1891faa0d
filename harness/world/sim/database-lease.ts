// One actor's share of a Database owned by the world: the sim world's one gated database serves every pipeline
// instance of a run (and the harness's own ACK observer), yet a pipeline owns its Database — stop() ends it and
// crash() aborts it (pipeline/index.ts). A lease is what such an owner closes: afterwards its calls reject with
// DatabaseClosedError, as on a closed pool, while the shared database stays open for everyone else. A transaction
// the owner had open when it crashed gets DatabaseClosedError at its next statement, so the shared database's
// transaction() rolls it back (ROLLBACK through the shared database, i.e. through the sim world's gate, in schedule
// order) as Postgres does when a crashed client's connection closes.
import { DatabaseClosedError, type Database, type Sql, type SqlResult, type Statement } from '../sql.ts';

export function leaseDatabase(shared: Database): Database {
  let closed: 'aborted' | 'ended' | undefined;
  /** Calls under way, so end() can let them finish as a pool's end() does. */
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: () => Promise<T>): Promise<T> => {
    if (closed !== undefined) return Promise.reject(new DatabaseClosedError(closed));
    const p = work();
    running.add(p);
    const forget = () => running.delete(p);
    p.then(forget, forget);
    return p;
  };
  return {
    query: <R>(statement: string | Statement, values?: readonly unknown[]): Promise<SqlResult<R>> =>
      track(() => shared.query<R>(statement, values)),
    transaction: <T>(work: (tx: Sql) => Promise<T>): Promise<T> =>
      track(() =>
        shared.transaction((tx) =>
          work({
            query: <R>(statement: string | Statement, values?: readonly unknown[]): Promise<SqlResult<R>> =>
              closed === 'aborted' ? Promise.reject(new DatabaseClosedError(closed)) : tx.query<R>(statement, values),
          }),
        ),
      ),
    // A crash of the lease's owner: what it has at the shared gate still runs there (as a statement already sent
    // runs on after a real crash), but the owner issues nothing more, and its open transactions end in ROLLBACK.
    abort: () => {
      closed ??= 'aborted';
      return Promise.resolve();
    },
    end: async () => {
      closed ??= 'ended';
      await Promise.allSettled([...running]);
    },
  };
}
