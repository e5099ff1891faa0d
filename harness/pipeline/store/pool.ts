// The pipeline's Postgres pool, transactions, and retry of failed writes.
import pg from 'pg';

export type Queryable = pg.Pool | pg.PoolClient;

export function createPool(url: string, max: number, log: (line: string) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection (server restart, killed backend) must not crash the process.
  pool.on('error', (error) => log(`pipeline: idle database connection failed: ${errorText(error)}`));
  return pool;
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

/** `attempts` tries with growing pauses; the last error is thrown. */
export async function withRetry<T>(
  attempts: number,
  work: (attempt: number) => Promise<T>,
  onRetry: (error: unknown, attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= attempts) throw error;
      onRetry(error, attempt);
      await sleep(Math.min(1000, 25 * 4 ** (attempt - 1)));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
