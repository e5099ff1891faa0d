// Deterministic UUIDs for a sim run's database. The schema's keys default to gen_random_uuid() (schema/001_base.sql
// …): random ids would reach the history (pipeline_committed.imageId) and order rows by key, so two runs of one
// seed would differ. Setting `search_path = camfleet_sim, pg_catalog, …` on the connections is not enough: a
// column DEFAULT is bound to pg_catalog.gen_random_uuid's OID at CREATE TABLE time, whatever the search_path when
// it runs (sim-ids.test.ts shows both). So, once the run's database is migrated and before any actor writes, every
// such DEFAULT in `public` is rebound to camfleet_sim.gen_random_uuid(): version-4-shaped ids counted from a
// sequence, handed out in statement order — which the gate makes the schedule's order.
import type { Sql } from '../sql.ts';

export const SIM_ID_SCHEMA = 'camfleet_sim';

/** Creates camfleet_sim.gen_random_uuid() (once) and rebinds every public column still defaulting to
 *  gen_random_uuid() to it; returns the columns rebound now (`table.column`), sorted: none when called again on the
 *  same database. Run it alone, on the admin connection, before the run. */
export async function installDeterministicIds(db: Sql): Promise<string[]> {
  // Once per database: a sweep's database keeps them between runs, and DDL each run would make every connection
  // rebuild its caches (CREATE OR REPLACE FUNCTION and ALTER TABLE change the catalog even when nothing differs).
  const { rows: installed } = await db.query<{ present: boolean }>(
    `SELECT to_regprocedure('${SIM_ID_SCHEMA}.gen_random_uuid()') IS NOT NULL AS present`,
  );
  if (installed[0]?.present !== true) {
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${SIM_ID_SCHEMA}`);
    await db.query(`CREATE SEQUENCE IF NOT EXISTS ${SIM_ID_SCHEMA}.uuid_seq`);
    await db.query(
      `CREATE OR REPLACE FUNCTION ${SIM_ID_SCHEMA}.gen_random_uuid() RETURNS uuid LANGUAGE sql VOLATILE AS
       $$ SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(nextval('${SIM_ID_SCHEMA}.uuid_seq')), 12, '0'))::uuid $$`,
    );
  }
  // The columns still bound to pg_catalog's function (information_schema.columns' column_default is the same
  // pg_get_expr, but that view is slow to plan).
  const { rows } = await db.query<{ table_name: string; column_name: string }>(
    `SELECT c.relname AS table_name, a.attname AS column_name
     FROM pg_attrdef d
     JOIN pg_class c ON c.oid = d.adrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
     WHERE n.nspname = 'public' AND NOT a.attisdropped AND pg_get_expr(d.adbin, d.adrelid) = 'gen_random_uuid()'
     ORDER BY 1, 2`,
  );
  for (const { table_name, column_name } of rows) {
    await db.query(
      `ALTER TABLE public.${quoteIdent(table_name)} ALTER COLUMN ${quoteIdent(column_name)}
       SET DEFAULT ${SIM_ID_SCHEMA}.gen_random_uuid()`,
    );
  }
  return rows.map((r) => `${r.table_name}.${r.column_name}`);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
