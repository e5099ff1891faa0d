// The pipeline's policy for failed database calls: which errors are a lost connection, and how often to try again.
// The database itself (query, transaction, abort) is the world's seam: world/sql.ts, world/live/pg-database.ts.
import type { Clock } from '../../world/clock.ts';
import { realClock } from '../../world/live/real-clock.ts';

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
