// Holding verdicts to an expectation: pass means all pass; fail lists must fail, mayFail may do anything, the
// rest must not fail.
import { describe, expect, test } from 'vitest';
import { invariantIds, type InvariantId, type InvariantVerdict, type Verdict } from './verdict.ts';
import { judgeExpectation, overallOutcome } from './expectation.ts';

const verdicts = (over: Partial<Record<InvariantId, Verdict>>): InvariantVerdict[] =>
  invariantIds.map((id) => ({
    id,
    name: id,
    description: '',
    verdict: over[id] ?? 'pass',
    summary: '',
    offending: [],
    offendingCount: 0,
  }));
const outcome = (...args: Parameters<typeof judgeExpectation>) => overallOutcome(judgeExpectation(...args));

describe('judgeExpectation', () => {
  test('"pass": every invariant passes; an unknown is unknown; a failure is unmet', () => {
    expect(outcome('pass', verdicts({}))).toBe('met');
    expect(outcome('pass', verdicts({ I5: 'unknown' }))).toBe('unknown');
    expect(outcome('pass', verdicts({ I5: 'unknown', I1: 'fail' }))).toBe('unmet');
  });

  test('{ fail }: the listed must fail, the others must not', () => {
    expect(outcome({ fail: ['I1'] }, verdicts({ I1: 'fail' }))).toBe('met');
    expect(outcome({ fail: ['I1'] }, verdicts({ I1: 'fail', I8: 'unknown' }))).toBe('met');
    expect(outcome({ fail: ['I1'] }, verdicts({}))).toBe('unmet'); // the legacy profile stopped failing
    expect(outcome({ fail: ['I1'] }, verdicts({ I1: 'unknown' }))).toBe('unknown');
    expect(outcome({ fail: ['I1'] }, verdicts({ I1: 'fail', I2: 'fail' }))).toBe('unmet');
    expect(outcome({ fail: ['I1'], mayFail: ['I2'] }, verdicts({ I1: 'fail', I2: 'fail' }))).toBe('met');
  });

  test('an invariant missing from the verdicts counts as unknown', () => {
    const o = judgeExpectation('pass', verdicts({}).slice(0, 7));
    expect(o.find((x) => x.id === 'I8')).toMatchObject({ actual: 'unknown', outcome: 'unknown' });
  });

  test('a migration verdict (M1), when reported, is held to the expectation too', () => {
    const m1 = (verdict: Verdict): InvariantVerdict => ({
      id: 'M1',
      name: 'migration',
      description: '',
      verdict,
      summary: '',
      offending: [],
      offendingCount: 0,
    });
    expect(outcome('pass', [...verdicts({}), m1('pass')])).toBe('met');
    expect(outcome('pass', [...verdicts({}), m1('fail')])).toBe('unmet');
    expect(outcome({ fail: ['I1'] }, [...verdicts({ I1: 'fail' }), m1('fail')])).toBe('unmet');
  });
});
