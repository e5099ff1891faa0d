// Errors about reaching a database, phrased so a user can act on them in one line (exit code 2).
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  readonly exitCode = 2;
}

/** `host:port` of a postgres URL, defaults filled in as libpq would. */
export function describeAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/** Turns a pg/socket error into a one-line reason (`ECONNREFUSED`, `database "x" does not exist`, …). */
export function describeConnectError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const msg = error.message || (typeof code === 'string' ? code : error.name);
    if (error instanceof AggregateError && error.errors.length > 0) return describeConnectError(error.errors[0]);
    return typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(error);
}

// Redaction lives with the world's URLs (harness/world/redact.ts); re-exported for the callers that knew it here.
export { redactUrl } from '../world/redact.ts';
