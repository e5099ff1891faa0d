// Virtual time inside a sim run's database, for what the database itself timestamps and a pipeline then judges by
// age: legacy-ttl expires a transfer's chunks 30 minutes after the last one's `image_chunks.received_at`, stamped by
// its DEFAULT now() — Postgres' wall clock, on which a sim run's hours of deep sleep take a second. Here that DEFAULT
// is rebound (as sim-ids.ts rebinds the uuid DEFAULTs, for the same reason: a DEFAULT is bound at CREATE TABLE time,
// a search_path does not reach it) to camfleet_sim.now(), which reads the virtual instant the gate last wrote into a
// one-row table before it released a statement (sim-drive.ts: only when the instant moved). The pipeline compares
// against the same clock by passing its own now (PipelineOptions.expiryClock). Every other now() stays wall time.
import type { Sql } from '../sql.ts';
import { SIM_ID_SCHEMA } from './sim-ids.ts';

/** The columns whose DEFAULT now() becomes the virtual instant: what legacy-ttl's expiry measures age by. */
const VIRTUAL_NOW_COLUMNS = [{ table: 'image_chunks', column: 'received_at' }] as const;

/** Writes the virtual instant (ms since the epoch) the database's camfleet_sim.now() returns from now on. */
export const SET_VIRTUAL_NOW_SQL = `UPDATE ${SIM_ID_SCHEMA}.virtual_now SET now_ms = $1`;

/** Creates camfleet_sim.now() and its one-row table, and rebinds VIRTUAL_NOW_COLUMNS' DEFAULTs to it; returns the
 *  columns rebound (`table.column`). Run it alone, on the admin connection, before the run. */
export async function installVirtualNow(db: Sql, startMs: number): Promise<string[]> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${SIM_ID_SCHEMA}`);
  await db.query(`CREATE TABLE IF NOT EXISTS ${SIM_ID_SCHEMA}.virtual_now (now_ms bigint NOT NULL)`);
  await db.query(`DELETE FROM ${SIM_ID_SCHEMA}.virtual_now`);
  await db.query(`INSERT INTO ${SIM_ID_SCHEMA}.virtual_now (now_ms) VALUES ($1)`, [startMs]);
  await db.query(
    `CREATE OR REPLACE FUNCTION ${SIM_ID_SCHEMA}.now() RETURNS timestamptz LANGUAGE sql VOLATILE AS
     $$ SELECT to_timestamp(now_ms / 1000.0) FROM ${SIM_ID_SCHEMA}.virtual_now $$`,
  );
  const rebound: string[] = [];
  for (const { table, column } of VIRTUAL_NOW_COLUMNS) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2`,
      [table, column],
    );
    if ((rows[0]?.n ?? 0) === 0) continue; // a stage without the table: nothing to rebind
    await db.query(`ALTER TABLE public.${table} ALTER COLUMN ${column} SET DEFAULT ${SIM_ID_SCHEMA}.now()`);
    rebound.push(`${table}.${column}`);
  }
  return rebound;
}

/**
 * Undoes installVirtualNow's DEFAULTs where an earlier run on the same database left them (a sweep or an exploration
 * resets its run database between runs, which empties camfleet_sim.virtual_now but keeps the rebound DEFAULT: the
 * next run's chunks would be stamped NULL and refused). A run without virtual time calls it before it starts; on a
 * fresh database it is one catalog query. Returns the columns given back their `now()`.
 */
export async function removeVirtualNow(db: Sql): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = 'public' AND column_default LIKE '${SIM_ID_SCHEMA}.now()%'`,
  );
  const restored: string[] = [];
  for (const { table_name: table, column_name: column } of rows) {
    await db.query(`ALTER TABLE public.${table} ALTER COLUMN ${column} SET DEFAULT now()`);
    restored.push(`${table}.${column}`);
  }
  return restored;
}
