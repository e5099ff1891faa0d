// The check phase: the checker over the history and the database, then the run's result. A run cut short (time
// budget, Ctrl-C) proves nothing about liveness, so its verdict is at best unknown.
import type { FleetOutcome, RunnableFleet } from '../fleet/fleet.ts';
import type { FaultScheduler } from '../nemesis/fault-scheduler.ts';
import type { HistoryEvent } from '../history/events.ts';
import type { Forwarder } from '../forwarder/start.ts';
import { judgeRun } from './judge.ts';
import type { PeakRss } from './peak-rss.ts';
import { emptyPipelineStats, type PipelineSet } from './pipeline-set.ts';
import { keepsDatabase, type RunContext } from './run-context.ts';
import type { RunSetup } from './run-setup.ts';
import type { LiveRunResult } from './run-types.ts';

export interface CheckPhaseInput {
  readonly setup: RunSetup;
  readonly fleet: RunnableFleet;
  readonly pipelines: PipelineSet | undefined;
  /** The webhook forwarder of a run that forwards (webhook-setup.ts). */
  readonly forwarder?: Forwarder | undefined;
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
  for (const error of input.scheduler.stats().errors) hooks.onPhase?.(`a fault could not be injected: ${error}`);
  const { verdict, verdicts } = await judgeRun(db.pool, history.events, {
    exercises: options.exercises ?? [],
    migrationPlanned: options.faults.migration !== null,
    // A run cut short proves nothing about liveness.
    incomplete: outcome.aborted ? { why: 'run stopped before the fleet finished', unknowable: ['I5'] } : undefined,
  });
  history.append({ type: 'run_phase', phase: 'end' });
  // What the database holds, not what the pipelines counted: a crashed instance's commit can land after its crash,
  // uncounted, and an external pipeline counts nothing of ours.
  const imagesComplete = await db.pool
    .query<{ n: number }>("SELECT count(*)::int AS n FROM device_images WHERE status = 'complete'")
    .then(
      (r) => r.rows[0]?.n ?? 0,
      () => undefined,
    );
  const faultsInjected = faultsInjectedIn(history.events);
  const keep = keepsDatabase(options, run.external, db);
  return {
    verdict,
    verdicts,
    aborted: outcome.aborted,
    fleet: input.fleet.counters,
    imagesComplete,
    pipeline: input.pipelines?.stats() ?? emptyPipelineStats(),
    ...(input.forwarder === undefined ? {} : { webhook: input.forwarder.stats() }),
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
