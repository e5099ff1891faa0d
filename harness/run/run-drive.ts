// What moves a run's world while its fleet, heal and quiet phases run (ARCHITECTURE.md §8: one run path, the world
// behind seams). Live: nothing — sockets, Postgres and the real clock move by themselves, and the run's actors use
// the pipeline's own pg pool and the run's admin pool. Sim: the seeded scheduler (sim-drive.ts) over the router's
// deliveries and one gated database, which every actor's statements then go through.
import type pg from 'pg';
import { statementText, type Database, type Sql, type SqlResult, type Statement } from '../world/sql.ts';

export interface RunDrive {
  /** Prepares the run's migrated scratch database (through `admin`, alone) and opens what the actors use on it. */
  open(scratchUrl: string, admin: Sql): Promise<void>;
  /** A pipeline instance's Database (its own lease: its stop() or crash() closes only that). */
  pipelineDatabase(): Database;
  /** The harness's own statements while the world moves (the ACK observer, I7). */
  actorSql(): Sql;
  /** The pipeline instance's MQTT client id: fixed by the seed, so it reads the same in every run's history. */
  pipelineClientId(instanceTag: string): string;
  /** Runs a schema migration's statements (`apply`) on a Database of the world while it moves, and whatever the
   *  world needs after new tables (sim: their uuid DEFAULTs rebound to the deterministic ids). */
  migrate(apply: (database: Database) => Promise<void>): Promise<void>;
  /** The kill-connections fault in the drive's world: what pg_terminate_backend of every pipeline connection does
   *  live, at this point of the schedule; resolves to the connections killed. */
  killPipelineConnections(): Promise<number>;
  /** `listener` runs each time the world has settled between two steps (sim: the scheduler's onSettled): where a
   *  run reads its progress triggers on a schedule the seed fixes. It returns whether it started anything. */
  onSettled(listener: () => boolean): void;
  /** How long a crashed pipeline stays down before it restarts, in the world's time (sim: modelled, as nothing
   *  there takes time by itself; live worlds leave it out: a restart takes what it takes). */
  readonly pipelineRestartDownMs?: number;
  /** Starts moving the world (before the pipelines start: their start-up statements are steps too). */
  start(): void;
  /** Stops moving it (the run is at its check phase); rejects if the world got stuck on the way. */
  stop(): Promise<void>;
  /** Whatever happened: stops, and closes what open() opened (callers still at the gate get an error). */
  close(): Promise<void>;
}

/** The run's admin pool as the Sql a drive prepares the database through. */
export function poolSql(pool: pg.Pool): Sql {
  return {
    query: async <R>(statement: string | Statement, values?: readonly unknown[]): Promise<SqlResult<R>> => {
      const result = await pool.query(statementText(statement), values === undefined ? undefined : [...values]);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
  };
}
