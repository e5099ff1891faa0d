// `camfleet/vitest`: a catalogue scenario (or a spec of yours) as a test of your own suite, against our reference
// pipeline or your own service (`externalCmd`), with the verdict table as the failure message:
//
//   import { scenarioTest } from 'camfleet/vitest';
//   scenarioTest('broker-restart', { externalCmd: 'node dist/ingest.js' });
//
// A scenario that could not tell (`unknown`: a fault that did not fire, the time budget) fails the test too: a test
// that proves nothing must not pass.
import { test } from 'vitest';
import { resolveScenario, runScenario, type Scenario, type ScenarioOptions, type ScenarioResult } from './scenario.ts';

/** The scenario's expectation did not hold: the message is the verdict table. */
export class ScenarioNotMetError extends Error {
  constructor(readonly result: ScenarioResult) {
    super(`scenario ${result.name}: ${result.outcome === 'unmet' ? 'NOT MET' : 'UNKNOWN'}\n${result.table}`);
    this.name = 'ScenarioNotMetError';
  }
}

/** Runs the scenario and throws ScenarioNotMetError unless its expectation held; returns the result. */
export async function expectScenario(
  scenario: string | Scenario,
  options: ScenarioOptions = {},
): Promise<ScenarioResult> {
  const result = await runScenario(scenario, options);
  if (result.outcome !== 'met') throw new ScenarioNotMetError(result);
  return result;
}

/** Extra time a test allows past the scenario's own time budget: start-up (embedded Postgres) and the check. */
export const SCENARIO_TEST_SLACK_MS = 60_000;

/** Declares a vitest test that runs the scenario (expectScenario); its timeout is the scenario's budget + slack. */
export function scenarioTest(scenario: string | Scenario, options: ScenarioOptions = {}, timeoutMs?: number): void {
  const spec = resolveScenario(scenario);
  const where = options.externalCmd !== undefined ? ', your pipeline' : options.mode === 'sim' ? ', sim' : '';
  test(
    `camfleet scenario ${spec.name}${where}`,
    async () => {
      await expectScenario(spec, options);
    },
    timeoutMs ?? spec.timeBudgetS * 1000 + SCENARIO_TEST_SLACK_MS,
  );
}
