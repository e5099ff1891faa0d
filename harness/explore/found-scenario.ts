// What explore hands the user for a counterexample (issue 9 "npm run explore"): the shrunk case as a ready-to-run
// scenario file whose expectation is the invariants that failed, confirmed by running that very file's options once
// more (a counterexample that would not fail again is reported, never written as if it did), and the replay
// bundle of that confirming run (`npm run simulate -- --replay DIR` checks it byte for byte).
import { commandFor } from '../run/command-line.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { InvariantId } from '../checker/index.ts';
import { defaultBundleDir, replayCommand, writeBundle } from '../run/bundle.ts';
import { scenarioJson } from '../../scenarios/spec-json.ts';
import { SCENARIO_NAME, type Scenario } from '../../scenarios/spec.ts';
import { scenarioRunOptions } from '../../scenarios/to-run-options.ts';
import { caseScenario, describeSize, type ExploreTarget } from './explore-case.ts';
import type { Counterexample, ExploreSettings } from './explore.ts';
import { failedInvariants } from './explore.ts';
import type { ExploreWorld } from './explore-world.ts';

/** Where found scenarios go by default (not committed: .gitignore). */
export const FOUND_DIR = join('scenarios', 'found');

export interface FoundScenario {
  readonly file: string;
  readonly scenario: Scenario;
  /** The invariants the confirming run failed: the same as the counterexample's when `confirmed`. */
  readonly confirmedFailed: readonly InvariantId[];
  readonly confirmed: boolean;
  readonly bundleDir: string;
  /** `npm run scenario -- run --file FILE --mode sim` */
  readonly runCommand: string;
  /** `npm run simulate -- --replay DIR` */
  readonly replayCommand: string;
}

/** `found-<pipeline>-<stage>-seed<S>`, or the `--out` file's own name when it is a valid scenario name. */
export function foundScenarioName(target: ExploreTarget, seed: number, out: string | undefined): string {
  const own = out === undefined ? undefined : basename(out, '.json');
  if (own !== undefined && SCENARIO_NAME.test(own)) return own;
  const firmware = target.firmware === undefined || target.firmware === 'fw350' ? '' : `-${target.firmware}`;
  return `found-${target.pipeline}${firmware}-${target.stage}-seed${seed}`;
}

/** The explore command that found it, for the scenario's purpose line. */
export function exploreCommand(settings: ExploreSettings): string {
  const firmware =
    settings.firmware === undefined || settings.firmware === 'fw350' ? '' : ` --firmware ${settings.firmware}`;
  const ack = settings.ackNamesCapture === true ? ' --ack-names-capture' : '';
  return `${commandFor('explore')} --pipeline ${settings.pipeline}${firmware}${ack} --stage ${settings.stage} --faults ${settings.faults} --runs ${settings.runs} --seed ${settings.seed}`;
}

export async function writeFoundScenario(
  counterexample: Counterexample,
  settings: ExploreSettings,
  world: ExploreWorld,
  out: string | undefined,
  /** Bundles go to `<reportDir>/bundles/…` (else `.camfleet/bundles/…`). */
  reportDir?: string,
): Promise<FoundScenario> {
  const name = foundScenarioName(settings, settings.seed, out);
  const file = out ?? join(FOUND_DIR, `${name}.json`);
  const invariants = counterexample.failed.join(',');
  const scenario = caseScenario(counterexample.case, settings, {
    name,
    purpose: `Found by ${exploreCommand(settings)}: ${invariants} fail with ${describeSize(counterexample.size)}`,
    failed: counterexample.failed,
  });
  const options = scenarioRunOptions(scenario, { brokerUrl: undefined, databaseUrl: world.serverUrl, mode: 'sim' });
  const result = await world.run(options);
  const confirmedFailed = failedInvariants(result);
  const confirmed = confirmedFailed.join(',') === invariants;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, scenarioJson(scenario));
  const bundle = await writeBundle(defaultBundleDir(name, options.seed, reportDir), {
    options,
    scenario: name,
    expected: scenario.expect,
    verdict: result.verdict,
    verdicts: result.verdicts,
    history: result.history.events,
    sim: { scheduleDigest: result.schedule.scheduleDigest },
  });
  return {
    file,
    scenario,
    confirmedFailed,
    confirmed,
    bundleDir: bundle.dir,
    runCommand: `${commandFor('scenario')} run --file ${file} --mode sim`,
    replayCommand: replayCommand(bundle.dir),
  };
}
