// The live world's database (world/sql.ts): a pg.Pool. Statements run as they come, on whichever pooled connection
// is free; a killed or dropped connection is replaced by the pool on the next statement (callers retry what failed).
// The one place that reaches into pg's clients: abort() closes every connection under its query, as a crash does.
import pg from 'pg';
import { settledWithin, type Clock } from '../clock.ts';
import { DatabaseClosedError, type Database, type Sql, type SqlResult, type Statement } from '../sql.ts';
import { realClock } from './real-clock.ts';

export interface PgDatabaseOptions {
  readonly url: string;
  /** Pool size. */
  readonly max: number;
  /** Shows in pg_stat_activity (the kill-connections fault finds the pipeline's backends by it); cut to 63 bytes. */
  readonly applicationName?: string;
  /** An idle pooled connection failed (server restart, killed backend): reported, never thrown. */
  readonly onIdleError?: (error: Error) => void;
  /** abort()'s bounded wait runs on it. Default realClock. */
  readonly clock?: Clock;
  /** How long a new connection may take. Default 10 s. */
  readonly connectionTimeoutMs?: number;
}

export function createPgDatabase(options: PgDatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName.slice(0, 63) }),
  });
  // Every client the pool made, so abort() can cut them: pg.Pool.end() alone waits for checked-out clients.
  const clients = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    clients.add(client);
    // A checked-out client whose backend is killed emits 'error' on itself, not on the pool: without a listener
    // that would be an uncaught exception. The statement running on it fails and the caller handles that.
    client.on('error', () => {});
  });
  pool.on('remove', (client) => clients.delete(client));
  // An idle client losing its connection must not crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  const clock = options.clock ?? realClock;
  let closed: 'aborted' | 'ended' | undefined;
  const open = () => {
    if (closed !== undefined) throw new DatabaseClosedError(closed);
  };

  return {
    async query<R>(statement: string | Statement, values?: readonly unknown[]): Promise<SqlResult<R>> {
      open();
      return run<R>(pool, statement, values);
    },

    async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
      open();
      const client = await pool.connect();
      const tx: Sql = { query: (statement, values) => run(client, statement, values) };
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true; // the connection is gone: the pool must not hand it out again
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },

    async abort(timeoutMs = 2000): Promise<void> {
      closed ??= 'aborted';
      const ended = pool.end().catch(() => {});
      for (const client of clients) {
        // pg's Client.end() closes the socket and fails the active query; checked-out clients are then released.
        void (client as unknown as pg.Client).end().catch(() => {});
      }
      await settledWithin(clock, ended, timeoutMs);
    },

    async end(): Promise<void> {
      if (closed !== undefined) return;
      closed = 'ended';
      await pool.end();
    },
  };
}

async function run<R>(
  on: pg.Pool | pg.PoolClient,
  statement: string | Statement,
  values: readonly unknown[] | undefined,
): Promise<SqlResult<R>> {
  const config: pg.QueryConfig = typeof statement === 'string' ? { text: statement } : { ...statement };
  // pg only reads the parameter array; the cast drops `readonly` without copying what may be a large batch.
  if (values !== undefined) config.values = values as unknown[];
  const result = await on.query<pg.QueryResultRow>(config);
  return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
}
