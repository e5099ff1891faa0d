// The pipeline's Postgres pool, transactions, and retry of failed writes.
import pg from 'pg';
import { settledWithin, type Clock } from '../../world/clock.ts';
import { realClock } from '../../world/live/real-clock.ts';

export type Queryable = pg.Pool | pg.PoolClient;

/** Clients of each pool this module created, so abortPool can cut them (a crash does not wait for queries). */
const poolClients = new WeakMap<pg.Pool, Set<pg.PoolClient>>();

/**
 * The pipeline's pool. `applicationName` shows in pg_stat_activity (a fault injector kills the pipeline's backends
 * by it). A killed or dropped connection is replaced by the pool on the next query; callers retry what failed.
 */
export function createPool(url: string, max: number, log: (line: string) => void, applicationName?: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 10_000,
    ...(applicationName === undefined ? {} : { application_name: applicationName.slice(0, 63) }),
  });
  const clients = new Set<pg.PoolClient>();
  poolClients.set(pool, clients);
  pool.on('connect', (client) => {
    clients.add(client);
    // A checked-out client whose backend is killed emits 'error' on itself, not on the pool: without a listener
    // that would be an uncaught exception. The query running on it fails and the caller handles that.
    client.on('error', () => {});
  });
  pool.on('remove', (client) => clients.delete(client));
  // An idle client losing its connection (server restart, killed backend) must not crash the process.
  pool.on('error', (error) => log(`pipeline: idle database connection failed: ${errorText(error)}`));
  return pool;
}

/**
 * Ends a pool without waiting for anything (a crash): every connection is closed under whatever query it runs,
 * which then fails. Resolves once the pool has let go of its clients, or after `timeoutMs` (default 2000) on
 * `clock` (default realClock).
 */
export async function abortPool(
  pool: pg.Pool,
  options: { readonly timeoutMs?: number; readonly clock?: Clock } = {},
): Promise<void> {
  const clients = poolClients.get(pool);
  const ended = pool.end().catch(() => {});
  for (const client of clients ?? []) {
    // pg's Client.end() closes the socket and fails the active query; checked-out clients are then released.
    void (client as unknown as pg.Client).end().catch(() => {});
  }
  await settledWithin(options.clock ?? realClock, ended, options.timeoutMs ?? 2000);
}

/**
 * Errors that mean the connection, not the statement, failed: a killed backend (57P01 admin shutdown, 57P02 crash
 * shutdown, 57P03 cannot connect now), connection exceptions (08xxx), or the socket closing under a query. The same
 * statement on a fresh connection may well succeed.
 */
export function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('08')))
    return true;
  return /Connection terminated|connection ended|ECONNRESET|EPIPE|not queryable|Client has encountered a connection error/i.test(
    error.message,
  );
}

/**
 * Runs `work` again (at most `attempts` times in all, default 3) when the connection was lost under it, after a
 * short pause on `clock` (default realClock); other errors throw.
 */
export async function retryOnConnectionLoss<T>(
  work: () => Promise<T>,
  log: (line: string) => void,
  what: string,
  options: { readonly attempts?: number; readonly clock?: Clock } = {},
): Promise<T> {
  const attempts = options.attempts ?? 3;
  const clock = options.clock ?? realClock;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isConnectionLoss(error)) throw error;
      log(`pipeline: ${what}: database connection lost (${errorText(error)}), retrying`);
      await clock.sleep(10 * attempt);
    }
  }
}

/** Runs `work` inside BEGIN … COMMIT on one client; ROLLBACK on any error (and the error is rethrown). */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** `attempts` tries with growing pauses on `clock`; the last error is thrown. */
export async function withRetry<T>(
  attempts: number,
  work: (attempt: number) => Promise<T>,
  onRetry: (error: unknown, attempt: number) => void,
  clock: Clock = realClock,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= attempts) throw error;
      onRetry(error, attempt);
      await clock.sleep(Math.min(1000, 25 * 4 ** (attempt - 1)));
    }
  }
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
