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

export async function openRunDatabase(options: {
  databaseUrl?: string | undefined;
  stage: RunDatabaseStage;
  purpose: string;
  poolMax?: number;
}): Promise<RunDatabase> {
  const server = await openDatabaseServer({ databaseUrl: options.databaseUrl });
  let scratch: ScratchDatabase | undefined;
  try {
    scratch = await createScratchDatabase(server, options.purpose);
    const client = new pg.Client({ connectionString: scratch.url });
    try {
      await client.connect();
      await applyRunStage(client, options.stage);
    } finally {
      await client.end().catch(() => {});
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
