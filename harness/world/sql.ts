// The database seam (ARCHITECTURE.md §8): what the pipeline's store (and, later, anything else that writes) needs of
// Postgres, owned by camfleet rather than borrowed from pg. Two implementations, held to one contract
// (db-contract.ts):
// - live/pg-database.ts: a pg.Pool (statements run as they come, on whichever pooled connection is free);
// - sim/gated-database.ts: a fixed set of connections to the SAME real Postgres, where every statement waits at a
//   gate until a controller (the sim world's seeded scheduler) lets it run, alone, and hands its result back when
//   the controller says so — so the interleaving of concurrent handlers at each statement is a schedule.
// Either way the server is real Postgres: constraints, ON CONFLICT, plpgsql, lock waits and their SQLSTATE codes.

/** A statement's text; with `name`, prepared once per connection under that name and reused (pg's named query). */
export interface Statement {
  readonly text: string;
  readonly name?: string;
}

export interface SqlResult<R> {
  readonly rows: R[];
  /** Rows the statement returned or touched (0 where Postgres reports none, e.g. BEGIN). */
  readonly rowCount: number;
}

/** One statement at a time on the database (autocommit) or inside a transaction. */
export interface Sql {
  /**
   * Runs one statement with `$1…` parameters. A statement Postgres refuses rejects with pg's own error, whose
   * `code` is the SQLSTATE (23505 unique violation, 42P10 ON CONFLICT without a matching constraint, …); a lost
   * connection rejects with an error that `isConnectionLoss` (pipeline/store/pool.ts) recognises.
   */
  query<R = Record<string, unknown>>(statement: string | Statement, values?: readonly unknown[]): Promise<SqlResult<R>>;
}

export interface Database extends Sql {
  /** Runs `work` inside BEGIN … COMMIT on one connection; ROLLBACK on any error, which is then rethrown. */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
  /**
   * A crash: every connection is closed under whatever runs, which then fails (a statement already sent may still
   * commit, as in a real crash). Resolves once the connections are let go, or after `timeoutMs` (default 2000).
   * Every later call rejects with DatabaseClosedError: a crashed process does not come back; its successor opens
   * a new Database.
   */
  abort(timeoutMs?: number): Promise<void>;
  /** A clean close: lets running statements finish, then closes. Later calls reject with DatabaseClosedError. */
  end(): Promise<void>;
}

/**
 * A call on a Database after abort() or end(). Deliberately not a connection loss (isConnectionLoss is false for
 * it): retrying on the same Database can never succeed, so retry loops give up at once.
 */
export class DatabaseClosedError extends Error {
  readonly code = 'CAMFLEET_DB_CLOSED';
  constructor(how: 'aborted' | 'ended') {
    super(`database ${how}: no more statements on it (open a new one)`);
    this.name = 'DatabaseClosedError';
  }
}

/** A statement's text, whatever form it was given in (for logs and the gate's listing). */
export function statementText(statement: string | Statement): string {
  return typeof statement === 'string' ? statement : statement.text;
}
