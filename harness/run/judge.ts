// One judgement of a run from its history and its database, for simulate's check phase (check-phase.ts) and for
// `npm run check` over a sharded run's merged histories (harness/cli/check.ts): the checker's invariants, E1 (what
// the run was to exercise, and the faults it planned: one that never fired is unknown, never pass), M1 unknown when
// a mid-run migration was planned and left no snapshot, and what a run that is not whole (stopped early, shards
// missing) cannot prove turned unknown.
import { checkExercised, hasExercises, type ExerciseName } from '../checker/exercises.ts';
import {
  checkInvariants,
  overallVerdict,
  unknownVerdict,
  type Db,
  type InvariantId,
  type InvariantVerdict,
  type Verdict,
} from '../checker/index.ts';
import type { HistoryEvent } from '../history/events.ts';

export interface RunJudgement {
  readonly verdict: Verdict;
  readonly verdicts: readonly InvariantVerdict[];
}

/** A run that is not whole: why, and the verdicts it makes unknowable (a failure of one of them is unknown). */
export interface RunIncomplete {
  readonly why: string;
  readonly unknowable: readonly InvariantId[];
}

export interface JudgeOptions {
  /** What the run was to exercise (a scenario's `exercises`). */
  readonly exercises?: readonly ExerciseName[];
  /** The run was to migrate mid-run (M1 is then owed). */
  readonly migrationPlanned: boolean;
  /** Undefined: the run is whole. */
  readonly incomplete?: RunIncomplete | undefined;
}

/** Whether a history planned a mid-run migration (what a shard's plan said, read back from its history). */
export function plannedMigration(events: readonly HistoryEvent[]): boolean {
  return events.some((e) => e.type === 'fault_planned' && e.fault === 'migration');
}

export async function judgeRun(db: Db, events: readonly HistoryEvent[], o: JudgeOptions): Promise<RunJudgement> {
  let verdicts = await checkInvariants(db, events);
  const exercises = o.exercises ?? [];
  if (hasExercises(events, exercises)) verdicts = [...verdicts, checkExercised(events, exercises)];
  if (o.migrationPlanned && !verdicts.some((v) => v.id === 'M1'))
    verdicts = [
      ...verdicts,
      unknownVerdict('M1', 'the run was to migrate mid-run, but no pre-cleanup snapshot exists'),
    ];
  const incomplete = o.incomplete;
  if (incomplete !== undefined)
    verdicts = verdicts.map((v) =>
      incomplete.unknowable.includes(v.id) && v.verdict === 'fail'
        ? { ...v, verdict: 'unknown' as const, summary: `${incomplete.why}; ${v.summary}` }
        : v,
    );
  const overall = overallVerdict(verdicts);
  // A run that is not whole proves nothing about liveness: at best unknown.
  return { verdict: incomplete !== undefined && overall === 'pass' ? 'unknown' : overall, verdicts };
}
