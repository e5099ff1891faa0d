// A shard's last phase instead of the check (shard.ts): its history goes into the run's database, where
// `npm run check` finds every shard's; the checker runs once, over the whole run, after the last shard.
import type { FleetOutcome, RunnableFleet } from '../fleet/fleet.ts';
import { faultsInjectedIn } from './check-phase.ts';
import type { PeakRss } from './peak-rss.ts';
import { emptyPipelineStats, type PipelineSet } from './pipeline-set.ts';
import type { RunContext } from './run-context.ts';
import { devicesSimulated } from './run-options.ts';
import type { RunSetup } from './run-setup.ts';
import type { LiveRunResult } from './run-types.ts';
import { storeShardHistory } from './shard-history.ts';

export interface ShardPhaseInput {
  readonly setup: RunSetup;
  readonly fleet: RunnableFleet;
  readonly pipelines: PipelineSet | undefined;
  readonly outcome: FleetOutcome;
  readonly fleetMs: number;
  readonly rss: PeakRss;
}

export async function shardPhase(run: RunContext, input: ShardPhaseInput): Promise<LiveRunResult> {
  const { options, hooks, history } = run;
  const shard = options.shard;
  if (shard === undefined) throw new Error('shardPhase: not a shard');
  const db = input.setup.database;
  const devices = devicesSimulated(options);
  history.append({ type: 'run_phase', phase: 'end' });
  hooks.onPhase?.(`storing shard ${shard.index}/${shard.count}'s history in ${db.scratch.name}`);
  await storeShardHistory(db.pool, { shard, devices, aborted: input.outcome.aborted }, history.events, [
    options.databaseUrl,
    options.brokerUrl,
  ]);
  return {
    // Nothing is judged here: `npm run check` judges the whole run.
    verdict: 'unknown',
    verdicts: [],
    aborted: input.outcome.aborted,
    fleet: input.fleet.counters,
    pipeline: input.pipelines?.stats() ?? emptyPipelineStats(),
    wallMs: Date.now() - run.startedMs,
    fleetMs: input.fleetMs,
    peakRssBytes: input.rss.peakBytes,
    brokerKind: input.setup.broker?.kind ?? 'external',
    databaseKind: db.server.kind,
    databaseName: db.scratch.name,
    keptDatabaseUrl: db.scratch.url,
    faultsInjected: faultsInjectedIn(history.events),
    history,
    shard: { ...shard, devices },
  };
}
