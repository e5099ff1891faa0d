// The mid-run migration fault (`faults.migration`): the schema's next steps applied under a running fleet.
import { applyStep, MigrationError } from '../../schema/runner.ts';
import { readStepSql, schemaSteps, type SchemaStep } from '../../schema/steps.ts';
import { snapshotBeforeCleanup } from '../checker/index.ts';
import type { History } from '../history/history.ts';
import type { RunDatabase } from '../world/database.ts';
import type { Database } from '../world/sql.ts';
import type { PipelineSet } from './pipeline-set.ts';

const step = (stage: string) => {
  const found = schemaSteps.find((s) => s.stage === stage);
  if (!found) throw new Error(`no schema step ${stage}`);
  return found;
};

/** Takes the snapshot M1 compares against, then applies the cleanup and the resume step, wherever it runs. */
export type ApplyMigration = () => Promise<void>;

/** Live: on one connection of the run's admin pool, as `npm run migrate` applies the files. */
export function migrateOnAdminPool(db: RunDatabase): ApplyMigration {
  return async () => {
    const client = await db.pool.connect();
    try {
      await snapshotBeforeCleanup(client);
      await applyStep(client, step('cleanup'));
      await applyStep(client, step('resume'));
    } finally {
      client.release();
    }
  };
}

/**
 * Sim: through a Database of the world (a lease of the gated database), so each file is a statement at the gate
 * that the scheduler orders among the other actors' (the ACK observer's; the pipeline is stopped meanwhile).
 */
export function migrateThrough(database: Database): ApplyMigration {
  return async () => {
    await snapshotBeforeCleanup(database);
    await applyStepThrough(database, step('cleanup'));
    await applyStepThrough(database, step('resume'));
  };
}

/**
 * One file, sent whole (a multi-statement simple query, as applyStep sends it) inside the Database's transaction:
 * that keeps a failed file's ROLLBACK on the connection it failed on — a connection the gate hands to the next
 * caller. The file's own BEGIN and COMMIT then only draw warnings (already in / no transaction in progress).
 */
async function applyStepThrough(database: Database, schemaStep: SchemaStep): Promise<void> {
  try {
    await database.transaction((tx) => tx.query(readStepSql(schemaStep)));
  } catch (error) {
    const e = error as { message?: string; code?: string; hint?: string };
    throw new MigrationError(`${schemaStep.file}: ${e.message ?? String(error)}`, schemaStep, e.code, e.hint);
  }
}

/**
 * The seed's two steps applied while transfers are in flight (ARCHITECTURE.md §4): the legacy pipeline is stopped
 * (drained), the cleanup (after a snapshot the checker's M1 compares against) and the resume migration run, and the
 * `fixed` pipeline takes over. Interrupted transfers must then complete (I5) with no duplicates left (I1).
 */
export async function migrateMidRun(apply: ApplyMigration, pipelines: PipelineSet, history: History): Promise<void> {
  history.append({ type: 'nemesis', fault: 'migration', detail: `start (pipeline ${pipelines.currentProfile})` });
  await pipelines.stop();
  await apply();
  await pipelines.switchProfile('fixed');
  history.append({ type: 'nemesis', fault: 'migration', detail: 'done: cleanup + resume applied, pipeline fixed' });
}
