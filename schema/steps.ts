// The numbered SQL files of this folder, in the order they apply. Each stage name is what `--to`/`--stage` take.
import { readFileSync } from 'node:fs';

export const stages = ['base', 'cleanup', 'resume', 'pipeline'] as const;
export type Stage = (typeof stages)[number];

export interface SchemaStep {
  readonly stage: Stage;
  readonly file: string;
  /** The seed guide's name for the same script, where it has one. */
  readonly seedName?: string;
}

export const schemaSteps: readonly SchemaStep[] = [
  { stage: 'base', file: '001_base.sql' },
  { stage: 'cleanup', file: '002_cleanup.sql', seedName: 'APPLY_IMAGE_RESUME_CLEANUP_FIRST.sql' },
  { stage: 'resume', file: '003_resume.sql', seedName: 'APPLY_IMAGE_RESUME_MIGRATION.sql' },
  // Not part of the seed's migration: the tables camfleet's reference pipeline needs on top of it.
  { stage: 'pipeline', file: '004_pipeline.sql' },
];

export function isStage(value: string): value is Stage {
  return (stages as readonly string[]).includes(value);
}

export function readStepSql(step: SchemaStep): string {
  return readFileSync(new URL(step.file, import.meta.url), 'utf8');
}

/** The steps up to and including `stage`, in order. */
export function stepsThrough(stage: Stage): readonly SchemaStep[] {
  return schemaSteps.slice(0, stages.indexOf(stage) + 1);
}
