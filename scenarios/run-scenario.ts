// Runs one scenario — live, or in sim (`context.mode`) through runSim — and holds the result against its
// expectation; writes a failure bundle when it is not met. A scenario its spec keeps out of the mode, or one sim
// refuses (faults it cannot inject yet: a RunWorldError), is not run and says why (`notRun`), never passes.
import { describeFailure } from '../harness/run/exit-codes.ts';
import type { ReportEntry } from '../harness/report/index.ts';
import { entryFromRun, entryWithoutRun } from '../harness/report/index.ts';
import { defaultBundleDir, writeBundle } from '../harness/run/bundle.ts';
import { runLive, type LiveRunResult, type RunHooks } from '../harness/run/live-run.ts';
import type { LiveRunOptions } from '../harness/run/run-options.ts';
import { RunWorldError } from '../harness/run/run-world.ts';
import { runSim, type SimRunResult } from '../harness/run/sim-run.ts';
import { planOperator, type FleetStartWorld } from './operator.ts';
import { scenarioNotInMode, type Scenario } from './spec.ts';
import { scenarioRunOptions, type ScenarioRunContext } from './to-run-options.ts';

export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly options: LiveRunOptions;
  readonly entry: ReportEntry;
  /** Absent when runLive threw (then `entry.error` says why and `thrown` holds it). */
  readonly result: LiveRunResult | undefined;
  readonly thrown: unknown;
  /** Set when the scenario did not run in its mode: its spec keeps it out (`not-in-mode`, nothing thrown), or sim
   *  refused it (`refused-by-sim`, the RunWorldError in `thrown`). */
  readonly notRun?: { readonly kind: 'not-in-mode' | 'refused-by-sim'; readonly reason: string };
}

export interface RunScenarioSettings {
  readonly hooks?: RunHooks;
  /** Write a bundle when the expectation is not met (default true). */
  readonly bundle?: boolean;
  /** Bundles go to `<reportDir>/bundles/…` (else `.camfleet/bundles/…`). */
  readonly reportDir?: string | undefined;
}

export async function runScenario(
  scenario: Scenario,
  context: ScenarioRunContext,
  settings: RunScenarioSettings = {},
): Promise<ScenarioRun> {
  // Against the user's own pipeline a scenario must pass: its expectation describes the profile it names.
  if (context.externalCommand !== undefined) scenario = { ...scenario, expect: 'pass' };
  // Likewise a handler of the user's in place of the one the scenario names.
  if (context.webhook !== undefined && scenario.webhook !== undefined) scenario = { ...scenario, expect: 'pass' };
  const options = scenarioRunOptions(scenario, context);
  const input = { name: scenario.name, purpose: scenario.purpose, options, expected: scenario.expect };
  const mode = context.mode ?? 'live';
  const notInMode = scenarioNotInMode(scenario, mode);
  if (notInMode !== undefined)
    return {
      scenario,
      options,
      entry: entryWithoutRun(input, `not run in ${mode}: ${notInMode}`),
      result: undefined,
      thrown: undefined,
      notRun: { kind: 'not-in-mode', reason: notInMode },
    };
  let operatorHookCalled = false;
  const hooks: RunHooks = {
    ...settings.hooks,
    ...(scenario.operator
      ? {
          onFleetStart: (world: FleetStartWorld) => {
            operatorHookCalled = true;
            if (scenario.operator) planOperator(scenario.operator, world);
          },
        }
      : {}),
  };
  const startedMs = Date.now(); // wall time: how long the scenario took to run, for its report entry
  let result: LiveRunResult;
  /** The same result with its schedule, in sim. */
  let simResult: SimRunResult | undefined;
  try {
    if (mode === 'sim') result = simResult = await runSim(options, hooks);
    else result = await runLive(options, hooks);
  } catch (error) {
    const message = describeFailure(error).message.replace(/^error: /, '');
    const refused = mode === 'sim' && error instanceof RunWorldError;
    return {
      scenario,
      options,
      entry: entryWithoutRun(input, refused ? `refused by sim: ${message}` : message, Date.now() - startedMs),
      result: undefined,
      thrown: error,
      ...(refused ? { notRun: { kind: 'refused-by-sim' as const, reason: message } } : {}),
    };
  }
  if (scenario.operator && !operatorHookCalled)
    return {
      scenario,
      options,
      entry: entryWithoutRun(
        input,
        'the run ended before the fleet started: the operator actions never ran',
        result.wallMs,
      ),
      result,
      thrown: undefined,
    };
  let entry = entryFromRun(input, result);
  if (entry.outcome !== 'met' && settings.bundle !== false) {
    const written = await writeBundle(defaultBundleDir(scenario.name, options.seed, settings.reportDir), {
      options,
      scenario: scenario.name,
      expected: scenario.expect,
      verdict: result.verdict,
      verdicts: result.verdicts,
      history: result.history.events,
      sim: simResult === undefined ? undefined : { scheduleDigest: simResult.schedule.scheduleDigest },
    });
    entry = entryFromRun(input, result, { bundleDir: written.dir, replay: written.replay });
  }
  return { scenario, options, entry, result, thrown: undefined };
}
