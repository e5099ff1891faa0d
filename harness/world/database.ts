// The run's database: a fresh scratch database on the embedded server or on DATABASE_URL's server, migrated to
// the requested schema stage, dropped when the run ends (unless kept for inspection).
import pg from 'pg';
import { applyStep, migrateUp } from '../../schema/runner.ts';
import { schemaSteps } from '../../schema/steps.ts';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch-database.ts';
import type { DatabaseServer } from '../db/database-server.ts';
import { openDatabaseServer } from '../db/server.ts';

export interface RunDatabase {
  readonly server: DatabaseServer;
  readonly scratch: ScratchDatabase;
  readonly pool: pg.Pool;
  /** Closes the pool, drops the database (unless `keep`), stops an embedded server. */
  close(options?: { keep?: boolean }): Promise<void>;
}

/** The seed migration's stage a run starts at; camfleet's pipeline tables (004, independent of 002/003) are
 *  always added, so legacy pipeline profiles can run on the base stage as the original system did. */
export type RunDatabaseStage = 'base' | 'cleanup' | 'resume';

async function applyRunStage(client: pg.ClientBase, stage: RunDatabaseStage): Promise<void> {
  await migrateUp(client, 'base');
  if (stage !== 'base') await migrateUp(client, stage);
  const pipelineStep = schemaSteps.find((s) => s.stage === 'pipeline');
  if (pipelineStep) await applyStep(client, pipelineStep);
}

/** Serialises the shards' set-up of one shared run database (any constant: the lock lives in that database). */
const SHARED_SETUP_LOCK = 0x63666c74; // 'cflt'

export async function openRunDatabase(options: {
  databaseUrl?: string | undefined;
  stage: RunDatabaseStage;
  purpose: string;
  poolMax?: number;
  /** A sharded run's database (shard.ts runDatabaseName): created by the first shard to get here, found by the
   *  others, set up by one at a time, and never dropped by a shard (`npm run check` drops it). */
  sharedName?: string | undefined;
  /** Run on the fresh database after its schema stage, once per database: at once for a scratch database; for a
   *  shared one under the set-up lock, given whether an earlier shard already ran it (`alreadyDone`), so work that
   *  must not be repeated while other shards write (replacing triggers) is skipped. */
  setUp?: (client: pg.ClientBase, alreadyDone: boolean) => Promise<void>;
}): Promise<RunDatabase> {
  const server = await openDatabaseServer({ databaseUrl: options.databaseUrl });
  let scratch: ScratchDatabase | undefined;
  try {
    scratch =
      options.sharedName === undefined
        ? await createScratchDatabase(server, options.purpose)
        : await openSharedDatabase(server, options.sharedName);
    const client = new pg.Client({ connectionString: scratch.url });
    try {
      await client.connect();
      if (options.sharedName === undefined) {
        await applyRunStage(client, options.stage);
        await options.setUp?.(client, false);
      } else {
        await client.query('SELECT pg_advisory_lock($1)', [SHARED_SETUP_LOCK]);
        await client.query('CREATE TABLE IF NOT EXISTS camfleet_shared_setup (done_at timestamptz NOT NULL)');
        const done = (await client.query('SELECT 1 FROM camfleet_shared_setup')).rowCount !== 0;
        if (!done) await applyRunStage(client, options.stage);
        await options.setUp?.(client, done);
        if (!done) await client.query('INSERT INTO camfleet_shared_setup VALUES (now())');
      }
    } finally {
      await client.end().catch(() => {}); // ends the session, and with it the lock
    }
    const pool = new pg.Pool({ connectionString: scratch.url, max: options.poolMax ?? 4 });
    pool.on('error', () => {});
    const db = scratch;
    return {
      server,
      scratch: db,
      pool,
      async close(closeOptions = {}) {
        await pool.end().catch(() => {});
        if (!closeOptions.keep) await db.drop().catch(() => {});
        await server.stop();
      },
    };
  } catch (error) {
    await scratch?.drop().catch(() => {});
    await server.stop();
    throw error;
  }
}

/** The shared database `name` on `server`, created unless it exists; its drop() does nothing (a shard keeps it). */
async function openSharedDatabase(server: DatabaseServer, name: string): Promise<ScratchDatabase> {
  if (server.kind !== 'external') throw new Error('a sharded run needs a database server of its own (--database-url)');
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    // 42P04: it exists. 23505: another shard created it in the same instant (pg_database's unique name index).
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end().catch(() => {});
  }
  return { name, url: server.urlFor(name), drop: () => Promise.resolve() };
}
