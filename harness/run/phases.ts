// The phases of a run over its world, in order (ARCHITECTURE.md §6, §8): the fleet under faults (safety), the heal
// phase (faults off, clean wakes for devices with work left), then a quiet period so the pipelines catch up before
// the check (check-phase.ts). They know the world only through what setup handed them (Fleet, PipelineSet, the
// run's clock and drive), so the same phases run a live world and the sim one.
import type pg from 'pg';
import type { FleetOutcome, RunnableFleet } from '../fleet/fleet.ts';
import type { RunFaults } from './fault-wiring.ts';
import type { PipelineSet } from './pipeline-set.ts';
import type { Forwarder } from '../forwarder/start.ts';
import { forwarderIdleMaxMs } from './webhook-setup.ts';
import type { RunContext } from './run-context.ts';
import { poolSql } from './run-drive.ts';
import type { RunProgressFeed } from './run-progress.ts';

export interface FleetPhaseOutcome {
  readonly outcome: FleetOutcome;
  /** On the run's clock: where fleetMs counts from. */
  readonly startMs: number;
}

/** Safety: the fleet runs its work with the faults on, and the scheduler fires them by its progress. */
export async function fleetPhase(
  run: RunContext,
  fleet: RunnableFleet,
  faults: RunFaults,
  adminPool: pg.Pool,
): Promise<FleetPhaseOutcome> {
  const startMs = run.clock.nowMs();
  run.history.append({ type: 'run_phase', phase: 'start' });
  run.hooks.onFleetStart?.({
    db: run.drive?.actorSql() ?? poolSql(adminPool),
    history: run.history,
    plan: (f, t, work) => faults.scheduler.plan(f, t, work),
  });
  faults.scheduler.start();
  return { outcome: await fleet.run(), startMs };
}

export interface HealPhaseOutcome {
  readonly outcome: FleetOutcome;
  /** From the first wake to the last device done (heal phase included), on the run's clock. */
  readonly fleetMs: number;
}

/** Heal: faults stop; devices that still hold work get clean wakes until their queues drain (not after an abort). */
export async function healPhase(
  run: RunContext,
  fleet: RunnableFleet,
  faults: RunFaults,
  progress: RunProgressFeed,
  ran: FleetPhaseOutcome,
): Promise<HealPhaseOutcome> {
  await faults.stop();
  let outcome = ran.outcome;
  if (!outcome.aborted) {
    run.history.append({ type: 'run_phase', phase: 'heal' });
    run.hooks.onPhase?.('heal phase');
    progress.phase = 'heal';
    outcome = await fleet.heal();
  }
  const fleetMs = run.clock.nowMs() - ran.startMs;
  progress.finish();
  return { outcome, fleetMs };
}

/** Quiet: the fleet is shut down and the pipelines get `quietMs` (on the run's clock) to store what is in flight. */
export async function quietPhase(
  run: RunContext,
  fleet: RunnableFleet,
  pipelines: PipelineSet | undefined,
  forwarder?: Forwarder,
): Promise<void> {
  const { options, drive } = run;
  run.history.append({ type: 'run_phase', phase: 'quiet' });
  run.hooks.onPhase?.('quiet period');
  await fleet.shutdown();
  // The handler's writes are the database's too: every delivery under way (retries, held copies) ends first.
  if (forwarder !== undefined && !(await forwarder.idle(forwarderIdleMaxMs(run))))
    run.hooks.onWarning?.('the webhook forwarder still had deliveries under way when the quiet period ended');
  await pipelines?.idle();
  await run.clock.sleep(run.external ? Math.max(2_000, options.quietMs) : options.quietMs);
  await pipelines?.idle();
  if (drive !== undefined) {
    // Stopping a pipeline takes statements and messages: done while the drive still moves the world, which
    // then stops — the checker reads the database directly.
    await pipelines?.stop();
    await drive.stop();
  }
}
