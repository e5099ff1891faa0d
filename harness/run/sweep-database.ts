// The run database of a sweep: created and migrated once per schema stage, then reset between runs instead of
// created, migrated and dropped for every seed (about 300 ms of a 5-device run's ~900 ms). A reset database is
// what a fresh one is to a run: no rows (the migrations seed none), every sequence at its start (identity columns
// and the sim's uuid sequence, sim-ids.ts), the schema, functions, triggers and rebound DEFAULTs as they were.
// sweep.test.ts checks that seed k in a sweep gives the history seed k gives alone.
import { openRunDatabase, type RunDatabase, type RunDatabaseStage } from '../world/database.ts';
import type pg from 'pg';

const SYSTEM_SCHEMAS = `('pg_catalog', 'information_schema', 'pg_toast')`;

/**
 * Empties every table outside the system schemas and restarts every sequence: as freshly migrated. Only tables that
 * hold a row are truncated, and only sequences that were used are restarted: a TRUNCATE gives each table and index
 * a new file, and a 5-device run fills fewer than half of the tables (the whole reset took about a third of such a
 * run's wall time). TRUNCATE rather than DELETE: an emptied heap is what a fresh one is, so rows land where they
 * would in a new database (an unordered scan reads them in the same order).
 */
export const RESET_SQL = `DO $$
DECLARE r record; filled text[] := '{}'; has_row boolean;
BEGIN
  FOR r IN SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables
           WHERE schemaname NOT IN ${SYSTEM_SCHEMAS} LOOP
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || r.t || ')' INTO has_row;
    IF has_row THEN filled := filled || r.t; END IF;
  END LOOP;
  IF cardinality(filled) > 0 THEN
    EXECUTE 'TRUNCATE ' || array_to_string(filled, ', ') || ' RESTART IDENTITY CASCADE';
  END IF;
  FOR r IN SELECT schemaname, sequencename FROM pg_sequences
           WHERE schemaname NOT IN ${SYSTEM_SCHEMAS} AND last_value IS NOT NULL LOOP
    EXECUTE format('ALTER SEQUENCE %I.%I RESTART', r.schemaname, r.sequencename);
  END LOOP;
END $$`;

export async function resetRunDatabase(pool: pg.Pool): Promise<void> {
  await pool.query(RESET_SQL);
}

export class SweepDatabases {
  private readonly byStage = new Map<RunDatabaseStage, RunDatabase>();

  /** `serverUrl`: the sweep's one server, where each stage's database is created. */
  constructor(private readonly serverUrl: string) {}

  /** For RunSeams.openDatabase: the stage's database, reset; its close() leaves it for the next run. */
  readonly open: typeof openRunDatabase = async (options) => {
    let db = this.byStage.get(options.stage);
    if (db === undefined) {
      db = await openRunDatabase({ ...options, databaseUrl: this.serverUrl, purpose: 'sweep' });
      this.byStage.set(options.stage, db);
    } else await resetRunDatabase(db.pool);
    return { server: db.server, scratch: db.scratch, pool: db.pool, close: () => Promise.resolve() };
  };

  /** For a run that changes its database's schema (a mid-run migration): a database of its own on the sweep's
   *  server, dropped after it — a reset one would start the next seed at the migrated stage. */
  readonly openFresh: typeof openRunDatabase = (options) =>
    openRunDatabase({ ...options, databaseUrl: this.serverUrl, purpose: 'sweep' });

  /** The opener for a run of `options`: a mid-run migration changes its database's schema, so such a run gets a
   *  fresh one (openFresh); any other the stage's, reset (open). */
  openerFor(options: { readonly faults: { readonly migration: unknown } }): typeof openRunDatabase {
    return options.faults.migration === null ? this.open : this.openFresh;
  }

  /** Drops every database the sweep created. */
  async close(): Promise<void> {
    for (const db of this.byStage.values()) await db.close().catch(() => {});
    this.byStage.clear();
  }
}
