// One live run: world up (database at the run's stage, broker), pipeline(s), fleet, nemesis; then the heal phase
// (faults off, devices with work left get clean wakes), a quiet period, the checker over the history and the
// database, and everything torn down again. Safety phase, then heal, then liveness (ARCHITECTURE.md §6).
// The fleet and the pipelines reach the broker through a World (run-world.ts): a live one over the broker opened
// here, or the one the caller hands in (RunSeams.world, e.g. the sim world's in-memory router).
// This file only sequences the run (ARCHITECTURE.md §8: a run is phases over a World); each step is its own file:
// run-setup.ts, run-fleet.ts, fault-wiring.ts, phases.ts, check-phase.ts, run-teardown.ts.
import { createRng } from '../../simulator/random/prng.ts';
import { History } from '../history/history.ts';
import { policyOf } from '../pipeline/core/profile.ts';
import { unsupportedPointProblem } from '../nemesis/fault-points.ts';
import { openRunDatabase } from '../world/database.ts';
import { realClock } from '../world/live/real-clock.ts';
import { checkPhase } from './check-phase.ts';
import { shardPhase } from './shard-phase.ts';
import { wireFaults } from './fault-wiring.ts';
import { startPeakRss } from './peak-rss.ts';
import { fleetPhase, healPhase, quietPhase } from './phases.ts';
import { emptyRunResources, type RunContext } from './run-context.ts';
import { createRunFleet } from './run-fleet.ts';
import type { LiveRunOptions } from './run-options.ts';
import { RunProgressFeed } from './run-progress.ts';
import { setUpWorld, startPipelines } from './run-setup.ts';
import { tearDownRun } from './run-teardown.ts';
import type { LiveRunResult, RunHooks, RunSeams } from './run-types.ts';
import { givenWorldProblem, RunWorldError } from './run-world.ts';
import { startWebhook, webhookRendezvous } from './webhook-setup.ts';

export type { LiveRunResult, RunHooks, RunProgress, RunSeams } from './run-types.ts';

export async function runLive(
  options: LiveRunOptions,
  hooks: RunHooks = {},
  seams: RunSeams = {},
): Promise<LiveRunResult> {
  // Fault points the parser accepts but this run's broker cannot strike (fault-points.ts): refused before anything
  // starts. A given world's broker is its router (or nothing a point can reach).
  const pubacksOurs = seams.world === undefined ? options.brokerUrl === undefined : seams.world.router !== undefined;
  const notYet = unsupportedPointProblem(options.faults.points, pubacksOurs);
  if (notYet !== undefined) throw new RunWorldError(notYet);
  if (options.pipeline === 'external' && options.faults.points.some((p) => p.kind === 'crash-before-ack'))
    throw new RunWorldError(
      "fault point crash-before-ack crashes camfleet's own pipeline: --pipeline external has none",
    );
  if (options.webhook !== undefined && (seams.drive !== undefined || seams.world?.mode === 'sim'))
    throw new RunWorldError(
      '--forward-webhook needs a live run: a sim run is one deterministic process on a virtual clock, and an HTTP handler is outside it',
    );
  if (seams.world !== undefined) {
    const problem = givenWorldProblem(options, seams.world, seams.clock);
    if (problem !== undefined) throw new RunWorldError(problem);
  }
  const clock = seams.world?.clock ?? seams.clock ?? realClock;
  const startedMs = Date.now(); // wall time: the time budget and the run's wallMs measure this process
  const rss = startPeakRss();
  const history = new History(() => clock.nowMs());
  if (options.historyPath) history.writeTo(options.historyPath);
  const run: RunContext = {
    options,
    hooks,
    clock,
    drive: seams.drive,
    history,
    rng: createRng(options.seed),
    startedMs,
    external: options.pipeline === 'external',
    openDatabase: seams.openDatabase ?? openRunDatabase,
  };
  const resources = emptyRunResources();
  try {
    const setup = await setUpWorld(run, seams.world, resources);
    const rendezvous = webhookRendezvous(run);
    const pipelines = await startPipelines(run, setup, resources, rendezvous);
    if (pipelines !== undefined) rendezvous?.activeWhile(() => policyOf(pipelines.currentProfile).edgeWriter);
    const forwarder = await startWebhook(run, setup, resources, rendezvous);
    const fleet = createRunFleet(run, setup, resources, pipelines, forwarder);
    const faults = wireFaults(run, setup, fleet, pipelines, resources);
    const progress = new RunProgressFeed(run, fleet, pipelines, faults.scheduler, resources);
    progress.start();

    const ran = await fleetPhase(run, fleet, faults, setup.database.pool);
    const healed = await healPhase(run, fleet, faults, progress, ran);
    await quietPhase(run, fleet, pipelines, forwarder);
    if (options.shard !== undefined) {
      return await shardPhase(run, { setup, fleet, pipelines, outcome: healed.outcome, fleetMs: healed.fleetMs, rss });
    }
    return await checkPhase(run, {
      setup,
      fleet,
      pipelines,
      forwarder,
      scheduler: faults.scheduler,
      outcome: healed.outcome,
      fleetMs: healed.fleetMs,
      rss,
    });
  } finally {
    await tearDownRun(run, resources, rss);
  }
}
