// `npm run explore` (issue 9): the property "every invariant holds" over generated fleets, fault plans and
// schedules (arbitraries.ts), each case one sim run (explore-world.ts). On a failing case fast-check shrinks it
// — each smaller case that still fails is a shrink step — and the smallest one is confirmed by running it once
// more as the scenario spec explore writes (found-scenario.ts), so what the user gets fails the same way every time.
import fc from 'fast-check';
import type { InvariantId } from '../checker/index.ts';
import type { FaultMix } from '../nemesis/fault-plan.ts';
import { exitCodes } from '../run/exit-codes.ts';
import { RunWorldError } from '../run/run-world.ts';
import type { SimRunResult } from '../run/sim-run.ts';
import type { LiveRunOptions } from '../run/run-options.ts';
import { scenarioRunOptions } from '../../scenarios/to-run-options.ts';
import { exploreCaseArb } from './arbitraries.ts';
import { caseScenario, caseSize, type CaseSize, type ExploreCase, type ExploreTarget } from './explore-case.ts';
import type { ExploreLane, ExploreWorld } from './explore-world.ts';

export interface ExploreSettings extends ExploreTarget {
  readonly faults: FaultMix;
  /** Cases to try before giving up (fast-check's numRuns); the shrink's runs come on top. */
  readonly runs: number;
  /** fast-check's seed: the same seed explores the same cases in the same order. */
  readonly seed: number;
  readonly databaseUrl: string | undefined;
  /** Runs the shrink may take at most; past it the smallest failing case so far is the counterexample. */
  readonly shrinkRunsMax?: number;
}

export const SHRINK_RUNS_MAX_DEFAULT = 400;

export type ExplorePhase = 'search' | 'shrink';

/** One case run. */
export interface ExploreRun {
  readonly phase: ExplorePhase;
  /** 1-based within its phase. */
  readonly index: number;
  readonly case: ExploreCase;
  readonly size: CaseSize;
  /** The invariants that failed (none: the property held). */
  readonly failed: readonly InvariantId[];
  /** The run threw (a stall, the scheduler's step limit): not a counterexample, but reported. */
  readonly error?: string;
  readonly wallMs: number;
}

export interface ExploreHooks {
  readonly onRun?: (run: ExploreRun) => void;
  /** Checked before each run: a stopped exploration runs nothing more and reports what it has. */
  readonly signal?: AbortSignal;
}

export interface FailingCase {
  readonly case: ExploreCase;
  readonly size: CaseSize;
  readonly failed: readonly InvariantId[];
}

export interface Counterexample extends FailingCase {
  /** The first failing case found, before shrinking. */
  readonly found: FailingCase;
  /** Its place in fast-check's order for the seed (1-based): the same whatever the lanes (--jobs). */
  readonly foundAtCase: number;
  /** Each smaller failing case the shrink moved to, in order. */
  readonly shrinkSteps: readonly FailingCase[];
  /** fast-check's path to the shrunk case (with the seed, `fc.assert` replays it). */
  readonly path: string | undefined;
}

export interface ExploreResult {
  readonly settings: ExploreSettings;
  /** Cases tried before the first counterexample (it included), or all of them. */
  readonly searchRuns: number;
  readonly shrinkRuns: number;
  readonly searchWallMs: number;
  readonly shrinkWallMs: number;
  /** Search runs per wall second (server start excluded). */
  readonly runsPerS: number;
  /** Runs that threw instead of giving verdicts, and the first error. */
  readonly errored: number;
  readonly firstError: string | undefined;
  /** Stopped by the signal before the search or shrink finished. */
  readonly stopped: boolean;
  readonly counterexample: Counterexample | undefined;
}

/** The options of one case's run: through the spec, as the written scenario file will run it. */
export function caseRunOptions(c: ExploreCase, target: ExploreTarget, databaseUrl: string | undefined): LiveRunOptions {
  const scenario = caseScenario(c, target, { name: 'explore-case', purpose: 'one case of npm run explore' });
  return scenarioRunOptions(scenario, { brokerUrl: undefined, databaseUrl, mode: 'sim' });
}

/** The invariants a run failed, in the checker's order. */
export function failedInvariants(result: Pick<SimRunResult, 'verdicts'>): InvariantId[] {
  return result.verdicts.filter((v) => v.verdict === 'fail').map((v) => v.id);
}

/**
 * The invariant a shrink keeps failing: the first the found case failed, in the checker's order. A smaller case that
 * fails only another invariant shows another bug (a legacy pipeline has several), and a shrink that followed it
 * would end somewhere the found case never pointed — smaller, but not the same failure.
 */
export function keptInvariant(failed: readonly InvariantId[]): InvariantId {
  const first = failed[0];
  if (first === undefined) throw new Error('keptInvariant: the found case failed no invariant');
  return first;
}

/** Explores on `world` (the caller opens and closes it), one case per lane at a time. */
export async function explore(
  settings: ExploreSettings,
  world: ExploreWorld,
  hooks: ExploreHooks = {},
): Promise<ExploreResult> {
  const shrinkRunsMax = settings.shrinkRunsMax ?? SHRINK_RUNS_MAX_DEFAULT;
  const arbitrary = exploreCaseArb(settings);
  let errored = 0;
  let firstError: string | undefined;
  let fatal: unknown;
  let stopped = false;
  const startedMs = Date.now(); // wall time: the exploration's rate is about this machine

  /** One case on one lane; undefined when it did not run (stopped, or a fatal error elsewhere). */
  const runCase = async (
    lane: ExploreLane,
    c: ExploreCase,
    phase: ExplorePhase,
    index: number,
  ): Promise<readonly InvariantId[] | undefined> => {
    if (hooks.signal?.aborted) stopped = true;
    if (stopped || fatal !== undefined) return undefined;
    const size = caseSize(c);
    const runStartedMs = Date.now();
    let failed: InvariantId[] = [];
    let error: string | undefined;
    try {
      failed = failedInvariants(await lane.run(caseRunOptions(c, settings, world.serverUrl)));
    } catch (thrown) {
      // What the environment got wrong is wrong for every case: the exploration stops (exit 2).
      if (thrown instanceof RunWorldError || (thrown as { exitCode?: unknown }).exitCode === exitCodes.usage) {
        fatal ??= thrown;
        return undefined;
      }
      error = thrown instanceof Error ? thrown.message : String(thrown);
      errored += 1;
      firstError ??= error;
    }
    hooks.onRun?.({
      phase,
      index,
      case: c,
      size,
      failed,
      ...(error === undefined ? {} : { error }),
      wallMs: Date.now() - runStartedMs,
    });
    return failed;
  };

  // The search: fast-check's cases for this seed (fc.sample draws the very sequence fc.check would), run in lanes.
  // The counterexample is the FIRST failing case in that sequence, whatever the lanes' timing: a lane takes no case
  // past a failing one, and every case before it is run.
  const cases = fc.sample(arbitrary, { seed: settings.seed, numRuns: settings.runs });
  let next = 0;
  let firstFailing: { index: number; failed: readonly InvariantId[] } | undefined;
  let searchRuns = 0;
  const searchLane = async (lane: ExploreLane) => {
    while (next < cases.length && (firstFailing === undefined || next < firstFailing.index)) {
      const index = next++;
      const failed = await runCase(lane, cases[index] as ExploreCase, 'search', index + 1);
      if (failed === undefined) return;
      searchRuns += 1;
      if (failed.length > 0 && (firstFailing === undefined || index < firstFailing.index))
        firstFailing = { index, failed };
    }
  };
  await Promise.all(world.lanes.map(searchLane));
  if (fatal !== undefined) throw fatal as Error;
  const searchEndMs = Date.now();
  const base = {
    settings,
    searchWallMs: searchEndMs - startedMs,
    runsPerS: (searchRuns * 1000) / Math.max(1, searchEndMs - startedMs),
  };
  if (firstFailing === undefined)
    return {
      ...base,
      searchRuns,
      shrinkRuns: 0,
      shrinkWallMs: 0,
      errored,
      firstError,
      stopped,
      counterexample: undefined,
    };

  // The shrink: fast-check replays the failing case by its path (its index for this seed) and shrinks from it.
  // Each smaller case that still fails the same way is a shrink step. Past a stop, a fatal error or the shrink's
  // budget every case "holds" without a run, so fast-check ends at once with the smallest failing case so far.
  const failing = firstFailing;
  const foundCase = cases[failing.index] as ExploreCase;
  const found: FailingCase = { case: foundCase, size: caseSize(foundCase), failed: failing.failed };
  const shrinkSteps: FailingCase[] = [];
  let shrinkRuns = 0;
  let replayed = false;
  const lane = world.lanes[0] as ExploreLane;
  const kept = keptInvariant(failing.failed);
  // Cases already run, by their data: fast-check often reaches one case again from another raw value (a point's
  // device clamped to a smaller fleet, a rate's level under a rate that is off), and a run is the shrink's cost.
  const ran = new Map<string, readonly InvariantId[] | null>(); // what it failed, or null: it held
  const property = fc.asyncProperty(arbitrary, async (c) => {
    if (!replayed) {
      replayed = true; // the path's first case is the failing one the search ran
      return false;
    }
    const key = JSON.stringify(c);
    const known = ran.get(key);
    if (known === null) return true;
    if (known !== undefined) {
      // fast-check moves to it again (from another raw value): it is the counterexample now, as it holds it.
      shrinkSteps.push({ case: c, size: caseSize(c), failed: known });
      return false;
    }
    if (shrinkRuns >= shrinkRunsMax) return true;
    const failed = await runCase(lane, c, 'shrink', ++shrinkRuns);
    if (failed === undefined) return true;
    const stillFails = failed.includes(kept);
    ran.set(key, stillFails ? failed : null);
    if (!stillFails) return true;
    shrinkSteps.push({ case: c, size: caseSize(c), failed });
    return false;
  });
  const details = await fc.check(property, {
    seed: settings.seed,
    path: String(failing.index),
    numRuns: settings.runs,
  });
  if (fatal !== undefined) throw fatal as Error;
  const last = shrinkSteps.at(-1) ?? found;
  return {
    ...base,
    searchRuns,
    shrinkRuns,
    shrinkWallMs: Date.now() - searchEndMs,
    errored,
    firstError,
    stopped,
    counterexample: {
      ...last,
      found,
      foundAtCase: failing.index + 1,
      shrinkSteps,
      path: details.counterexamplePath ?? undefined,
    },
  };
}
