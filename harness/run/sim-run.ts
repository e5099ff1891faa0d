// A sim run (ARCHITECTURE.md §2, §8; issue 8 "Sim mode"): the same run as a live one — runLive's phases, fleet,
// pipeline, nemesis, history and checker — but the whole world in this process and moved by the seeded scheduler:
// one VirtualClock for everything, the in-memory router in manual delivery, and every statement an actor issues
// during the run through one gated database (sim-drive.ts) on the run's real scratch Postgres. Deep sleep is not
// compressed (timeScale 1): hours of virtual time cost no wall time. The same seed gives the same schedule and so
// the same history, byte for byte.
import { describeFaultPlan, faultMixes } from '../nemesis/fault-plan.ts';
import { parseTrigger } from '../nemesis/trigger.ts';
import { Router } from '../world/sim/router.ts';
import { simWorld } from '../world/sim/sim-world.ts';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { runLive, type LiveRunResult, type RunHooks, type RunSeams } from './live-run.ts';
import type { LiveRunOptions } from './run-options.ts';
import { RunWorldError } from './run-world.ts';
import { SimDrive, type SimDriveStats } from './sim-drive.ts';
import type { GateSource } from '../world/sim/gate-source.ts';

/** Where the virtual clock starts: the fleet's own RTC start (live-run.ts), so database timestamps the pipeline
 *  writes from its clock read like a live run's. */
export const SIM_START_MS = Date.UTC(2026, 0, 14, 6, 0, 0);

export interface SimRunResult extends LiveRunResult {
  readonly schedule: SimDriveStats;
  /** Virtual ms from the run's first history event to its last. */
  readonly virtualSpanMs: number;
}

/**
 * Why `options` cannot run in sim yet, or undefined. Network faults and broker restarts act on the router
 * (nemesis/sim-network-nemesis.ts, world/sim/sim-broker.ts; a slow subscriber is live-only, run-world.ts), but a
 * broker restart by `N-receiving` is not: nothing samples the database in sim. Server faults (pipeline restarts, killed connections, a slow link, two instances) and the mid-run
 * migration act through the run's admin pool or a TCP proxy, outside the gate, so their timing would be the
 * machine's, not the seed's. `legacy-ttl` expires chunks by Postgres' now(), wall time. Refused rather than
 * skipped, so a sim run never passes for having injected nothing.
 */
export function simRunProblem(options: LiveRunOptions): string | undefined {
  const server = describeFaultPlan({ ...faultMixes.none, server: options.faults.server });
  if (server !== 'none') return `sim mode cannot inject server faults yet (${server})`;
  // fault-wiring.ts samples the database for `N-receiving` triggers on a wall-time interval, which a sim run has not.
  const receiving = options.faults.network.brokerRestartAt.find((t) => parseTrigger(t).kind === 'receiving');
  if (receiving !== undefined)
    return `sim mode cannot fire a broker restart at ${receiving} yet (rows receiving are not sampled in sim); use a progress or in-flight trigger`;
  if (options.faults.migration !== null) return 'sim mode cannot run the mid-run migration yet';
  if (options.pipeline === 'legacy-ttl') return 'sim mode cannot run legacy-ttl yet (its expiry reads now())';
  return undefined;
}

/** What a sweep shares between its runs: the run database (sweep-database.ts) and the gate (gate-source.ts). */
export interface SimRunSeams extends Pick<RunSeams, 'openDatabase'> {
  readonly gates?: GateSource;
}

export async function runSim(
  options: LiveRunOptions,
  hooks: RunHooks = {},
  seams: SimRunSeams = {},
): Promise<SimRunResult> {
  const problem =
    simRunProblem(options) ??
    // A scenario's scripted interventions write through the run's admin pool, outside the gate.
    (hooks.onFleetStart === undefined ? undefined : 'sim mode cannot run scripted interventions (onFleetStart) yet');
  if (problem !== undefined) throw new RunWorldError(problem);
  const clock = new VirtualClock(SIM_START_MS);
  const router = new Router({ delivery: 'manual', timers: clock });
  const { gates, ...runSeams } = seams;
  const drive = new SimDrive({ seed: options.seed, clock, router, ...(gates === undefined ? {} : { gates }) });
  const result = await runLive({ ...options, timeScale: 1 }, hooks, {
    ...runSeams,
    world: simWorld(router, clock),
    drive,
  });
  const events = result.history.events;
  const virtualSpanMs = (events.at(-1)?.atMs ?? 0) - (events[0]?.atMs ?? 0);
  return { ...result, schedule: drive.stats(), virtualSpanMs };
}
