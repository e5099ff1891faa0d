// The check phase: the checker over the history and the database, then the run's result. A run cut short (time
// budget, Ctrl-C) proves nothing about liveness, so its verdict is at best unknown.
import { checkInvariants, overallVerdict, unknownVerdict } from '../checker/index.ts';
import { checkExercised, hasExercises } from '../checker/exercises.ts';
import type { FleetOutcome, RunnableFleet } from '../fleet/fleet.ts';
import type { FaultScheduler } from '../nemesis/fault-scheduler.ts';
import type { HistoryEvent } from '../history/events.ts';
import type { PeakRss } from './peak-rss.ts';
import { emptyPipelineStats, type PipelineSet } from './pipeline-set.ts';
import { keepsDatabase, type RunContext } from './run-context.ts';
import type { RunSetup } from './run-setup.ts';
import type { LiveRunResult } from './run-types.ts';

export interface CheckPhaseInput {
  readonly setup: RunSetup;
  readonly fleet: RunnableFleet;
  readonly pipelines: PipelineSet | undefined;
  readonly scheduler: FaultScheduler;
  readonly outcome: FleetOutcome;
  readonly fleetMs: number;
  readonly rss: PeakRss;
}

/** Faults injected, by name: the history's nemesis events counted (a run's result, checked or a shard's). */
export function faultsInjectedIn(events: readonly HistoryEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) if (e.type === 'nemesis') counts[e.fault] = (counts[e.fault] ?? 0) + 1;
  return counts;
}

export async function checkPhase(run: RunContext, input: CheckPhaseInput): Promise<LiveRunResult> {
  const { options, hooks, history } = run;
  const { setup, outcome } = input;
  const db = setup.database;
  history.append({ type: 'run_phase', phase: 'check' });
  hooks.onPhase?.('checking invariants');
  let verdicts = await checkInvariants(db.pool, history.events);
  if (hasExercises(history.events, options.exercises ?? []))
    verdicts = [...verdicts, checkExercised(history.events, options.exercises ?? [])];
  for (const error of input.scheduler.stats().errors) hooks.onPhase?.(`a fault could not be injected: ${error}`);
  if (options.faults.migration && !verdicts.some((v) => v.id === 'M1')) {
    verdicts = [
      ...verdicts,
      unknownVerdict('M1', 'the run was to migrate mid-run, but no pre-cleanup snapshot exists'),
    ];
  }
  if (outcome.aborted) {
    // A run cut short proves nothing about liveness.
    verdicts = verdicts.map((v) =>
      v.id === 'I5' && v.verdict === 'fail'
        ? { ...v, verdict: 'unknown', summary: `run stopped before the fleet finished; ${v.summary}` }
        : v,
    );
  }
  history.append({ type: 'run_phase', phase: 'end' });
  // What the database holds, not what the pipelines counted: a crashed instance's commit can land after its crash,
  // uncounted, and an external pipeline counts nothing of ours.
  const imagesComplete = await db.pool
    .query<{ n: number }>("SELECT count(*)::int AS n FROM device_images WHERE status = 'complete'")
    .then(
      (r) => r.rows[0]?.n ?? 0,
      () => undefined,
    );
  const verdict = outcome.aborted && overallVerdict(verdicts) === 'pass' ? 'unknown' : overallVerdict(verdicts);
  const faultsInjected = faultsInjectedIn(history.events);
  const keep = keepsDatabase(options, run.external, db);
  return {
    verdict,
    verdicts,
    aborted: outcome.aborted,
    fleet: input.fleet.counters,
    imagesComplete,
    pipeline: input.pipelines?.stats() ?? emptyPipelineStats(),
    wallMs: Date.now() - run.startedMs, // wall time
    fleetMs: input.fleetMs,
    peakRssBytes: input.rss.peakBytes,
    brokerKind: setup.broker?.kind ?? (setup.world.mode === 'sim' ? 'sim' : 'external'),
    databaseKind: db.server.kind,
    databaseName: db.scratch.name,
    keptDatabaseUrl: keep ? db.scratch.url : undefined,
    faultsInjected,
    history,
  };
}
