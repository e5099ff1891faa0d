// One line of a report: a run (a scenario, or a plain `simulate` run that is expected to pass), what was expected
// of each invariant and what happened. The JUnit and summary writers read only this.
import type { Verdict } from '../checker/index.ts';
import { describeFaultPlan } from '../nemesis/fault-plan.ts';
import type { LiveRunOptions, PipelineChoice, RunStage } from '../run/run-options.ts';
import type { Expectation, InvariantOutcome, Outcome } from '../checker/expectation.ts';
import { judgeExpectation, overallOutcome } from '../checker/expectation.ts';
import type { LiveRunResult } from '../run/live-run.ts';

export interface ReportEntry {
  /** The scenario's name, or `simulate`. */
  readonly name: string;
  readonly purpose: string | undefined;
  readonly seed: number;
  readonly pipeline: PipelineChoice;
  readonly stage: RunStage;
  /** describeFaultPlan: only the faults switched on. */
  readonly faults: string;
  readonly expected: Expectation;
  readonly outcome: Outcome;
  readonly verdict: Verdict;
  /** I1..I9; empty when the run did not happen (see `error`). */
  readonly invariants: readonly InvariantOutcome[];
  readonly wallMs: number;
  readonly aborted: boolean;
  /** Why there are no verdicts (the run failed to start, a hook it needs is missing…). */
  readonly error: string | undefined;
  readonly bundleDir: string | undefined;
  /** The command that repeats the run. */
  readonly replay: string | undefined;
}

export interface EntryInput {
  readonly name: string;
  readonly purpose?: string | undefined;
  readonly options: LiveRunOptions;
  readonly expected: Expectation;
}

export function entryFromRun(
  input: EntryInput,
  result: Pick<LiveRunResult, 'verdict' | 'verdicts' | 'wallMs' | 'aborted'>,
  extra: { readonly bundleDir?: string | undefined; readonly replay?: string | undefined } = {},
): ReportEntry {
  const invariants = judgeExpectation(input.expected, result.verdicts);
  return {
    ...describeInput(input),
    outcome: overallOutcome(invariants),
    verdict: result.verdict,
    invariants,
    wallMs: result.wallMs,
    aborted: result.aborted,
    error: undefined,
    bundleDir: extra.bundleDir,
    replay: extra.replay,
  };
}

/** A run that produced no verdicts: its outcome is unknown, with the reason. */
export function entryWithoutRun(input: EntryInput, error: string, wallMs = 0): ReportEntry {
  return {
    ...describeInput(input),
    outcome: 'unknown',
    verdict: 'unknown',
    invariants: [],
    wallMs,
    aborted: false,
    error,
    bundleDir: undefined,
    replay: undefined,
  };
}

function describeInput(input: EntryInput) {
  return {
    name: input.name,
    purpose: input.purpose,
    seed: input.options.seed,
    pipeline: input.options.pipeline,
    stage: input.options.stage,
    faults: describeFaultPlan(input.options.faults),
    expected: input.expected,
  };
}
