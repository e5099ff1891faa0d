// camfleet as a library: `import { simulate, runScenario, explore, check } from 'camfleet'`. Each takes the
// options of its command camelCased and returns a typed result; nothing is printed. Errors in what was asked
// (an unknown option, a bad URL, a scenario that does not exist) throw a UsageError, as the command exits 2.
export {
  simulate,
  type SimulateOptions,
  type SimulateResult,
  type FaultOptions,
  type RunCallbacks,
} from './simulate.ts';
export {
  runScenario,
  listScenarios,
  resolveScenario,
  type Scenario,
  type ScenarioOptions,
  type ScenarioResult,
} from './scenario.ts';
export { explore, type ExploreOptions, type ExploreOutcome, type ExploreRun } from './explore.ts';
export { check, type CheckOptions, type CheckResult } from './check.ts';
export { UsageError, exitCodes, type ExitCode } from '../harness/run/exit-codes.ts';
export { formatVerdicts, invariantIds, invariantInfo } from '../harness/checker/index.ts';
export type { InvariantId, InvariantVerdict, Verdict } from '../harness/checker/index.ts';
export type { InvariantOutcome, Outcome, Expectation } from '../harness/checker/expectation.ts';
export type { RunProgress } from '../harness/run/live-run.ts';
export type { HistoryEvent } from '../harness/history/events.ts';
