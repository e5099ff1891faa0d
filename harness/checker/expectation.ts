// Holds a run's verdicts against an expectation, invariant by invariant, so a report can say for each one what was
// expected and what happened. A scenario spec (scenarios/spec.ts) declares its expectation; a plain `simulate` run
// expects `pass`. Here, beside the verdicts, because the report and the failure bundle hold runs to it too, and they
// sit below the scenarios.
import type { InvariantId, InvariantVerdict, Verdict } from './verdict.ts';
import { invariantIds, invariantInfo } from './verdict.ts';

/**
 * What the run must show.
 * - `"pass"`: every invariant I1–I9 is `pass` (an `unknown` does not meet it).
 * - `{ fail: [...], mayFail?: [...] }`: every invariant in `fail` is `fail`; those in `mayFail` may be anything
 *   (secondary effects of the same bug); every other invariant is `pass` or `unknown` — never `fail`, so a bug that
 *   starts breaking something new is noticed.
 */
export type Expectation = 'pass' | { readonly fail: readonly InvariantId[]; readonly mayFail?: readonly InvariantId[] };

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

/** Pretty one-word form of an expectation: `pass`, `fail I1`, `fail I5 (I2 may fail)`. */
export function describeExpectation(expect: Expectation): string {
  if (expect === 'pass') return 'pass';
  const may = expect.mayFail && expect.mayFail.length > 0 ? ` (${expect.mayFail.join(', ')} may fail)` : '';
  return `fail ${expect.fail.join(', ')}${may}`;
}
