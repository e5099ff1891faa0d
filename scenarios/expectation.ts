// Holds a run's verdicts against a scenario's expectation (spec.ts, `Expectation`), invariant by invariant, so a
// report can say for each one what was expected and what happened.
import type { InvariantId, InvariantVerdict, Verdict } from '../harness/checker/index.ts';
import { invariantIds, invariantInfo } from '../harness/checker/index.ts';
import type { Expectation } from './spec.ts';

/** What one invariant must show: `pass`, `fail`, `not-fail` (pass or unknown) or `any` (a `mayFail` id). */
export type InvariantExpectation = 'pass' | 'fail' | 'not-fail' | 'any';

/** `met`; `unmet` (a definite verdict contradicts it); `unknown` (the verdict needed was unknown). */
export type Outcome = 'met' | 'unmet' | 'unknown';

export interface InvariantOutcome {
  readonly id: InvariantId;
  readonly name: string;
  readonly expected: InvariantExpectation;
  readonly actual: Verdict;
  readonly outcome: Outcome;
  readonly summary: string;
  readonly offending: readonly unknown[];
  readonly offendingCount: number;
}

export function invariantExpectation(expect: Expectation, id: InvariantId): InvariantExpectation {
  // E1 (exercised) is never `fail`; whatever the expectation, a run that missed its point meets it only as unknown.
  if (expect === 'pass' || id === 'E1') return 'pass';
  if (expect.fail.includes(id)) return 'fail';
  if (expect.mayFail?.includes(id)) return 'any';
  return 'not-fail';
}

function outcomeOf(expected: InvariantExpectation, actual: Verdict): Outcome {
  switch (expected) {
    case 'any':
      return 'met';
    case 'not-fail':
      return actual === 'fail' ? 'unmet' : 'met';
    default:
      return actual === expected ? 'met' : actual === 'unknown' ? 'unknown' : 'unmet';
  }
}

/**
 * One outcome per invariant I1..I9, plus any other the checker reported (M1 for runs that migrated mid-run); an
 * invariant of I1..I9 the checker did not report counts as unknown.
 */
export function judgeExpectation(expect: Expectation, verdicts: readonly InvariantVerdict[]): InvariantOutcome[] {
  const extra = verdicts.map((v) => v.id).filter((id) => !(invariantIds as readonly InvariantId[]).includes(id));
  return [...invariantIds, ...extra].map((id) => {
    const v = verdicts.find((x) => x.id === id);
    const expected = invariantExpectation(expect, id);
    const actual: Verdict = v?.verdict ?? 'unknown';
    return {
      id,
      name: v?.name ?? invariantInfo[id].name,
      expected,
      actual,
      outcome: outcomeOf(expected, actual),
      summary: v?.summary ?? 'not evaluated',
      offending: v?.offending ?? [],
      offendingCount: v?.offendingCount ?? 0,
    };
  });
}

/** unmet if any invariant is unmet; else unknown if any is unknown; else met. */
export function overallOutcome(outcomes: readonly { readonly outcome: Outcome }[]): Outcome {
  if (outcomes.some((o) => o.outcome === 'unmet')) return 'unmet';
  if (outcomes.some((o) => o.outcome === 'unknown')) return 'unknown';
  return 'met';
}
