// The mid-run migration fault (`faults.migration`): the schema's next steps applied under a running fleet.
import { applyStep } from '../../schema/runner.ts';
import { schemaSteps } from '../../schema/steps.ts';
import { snapshotBeforeCleanup } from '../checker/index.ts';
import type { History } from '../history/history.ts';
import type { RunDatabase } from '../world/database.ts';
import type { PipelineSet } from './pipeline-set.ts';

const step = (stage: string) => {
  const found = schemaSteps.find((s) => s.stage === stage);
  if (!found) throw new Error(`no schema step ${stage}`);
  return found;
};

/**
 * The seed's two steps applied while transfers are in flight (ARCHITECTURE.md §4): the legacy pipeline is stopped
 * (drained), the cleanup (after a snapshot the checker's M1 compares against) and the resume migration run, and the
 * `fixed` pipeline takes over. Interrupted transfers must then complete (I5) with no duplicates left (I1).
 */
export async function migrateMidRun(db: RunDatabase, pipelines: PipelineSet, history: History): Promise<void> {
  history.append({ type: 'nemesis', fault: 'migration', detail: `start (pipeline ${pipelines.currentProfile})` });
  await pipelines.stop();
  const client = await db.pool.connect();
  try {
    await snapshotBeforeCleanup(client);
    await applyStep(client, step('cleanup'));
    await applyStep(client, step('resume'));
  } finally {
    client.release();
  }
  await pipelines.switchProfile('fixed');
  history.append({ type: 'nemesis', fault: 'migration', detail: 'done: cleanup + resume applied, pipeline fixed' });
}
