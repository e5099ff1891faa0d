// Helpers for tests that need a database at a given schema stage, reset between property runs.
import type pg from 'pg';
import { applyStep, type ServerNotice } from '../schema/runner.ts';
import { schemaSteps, stepsThrough, type Stage } from '../schema/steps.ts';

/** Drops everything and re-applies the steps through `stage`: a clean database for one property run. */
export async function resetToStage(client: pg.ClientBase, stage: Stage | 'empty'): Promise<void> {
  await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
  if (stage !== 'empty') for (const step of stepsThrough(stage)) await applyStep(client, step);
}

export function stepFor(stage: Stage) {
  const step = schemaSteps.find((s) => s.stage === stage);
  if (!step) throw new Error(`no step ${stage}`);
  return step;
}

export async function applyCollecting(client: pg.ClientBase, stage: Stage): Promise<string[]> {
  const notices: ServerNotice[] = [];
  await applyStep(client, stepFor(stage), (n) => notices.push(n));
  return notices.map((n) => n.message);
}
