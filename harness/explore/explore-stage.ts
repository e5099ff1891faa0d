// The schema stage explore starts a profile's runs at when `--stage` is not given: where its bug can show.
import type { PipelineProfile } from '../pipeline/options.ts';
import type { RunStage } from '../run/run-options.ts';

/** legacy-insert and legacy-two-writers store duplicates only without the unique key (base); the rest resume. */
export function exploreStageDefault(pipeline: PipelineProfile): RunStage {
  return pipeline === 'legacy-insert' || pipeline === 'legacy-two-writers' ? 'base' : 'resume';
}
