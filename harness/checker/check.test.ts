import { describe, expect, test } from 'vitest';
import { newPool, primaryTarget } from '../../test/databases.ts';
import { checkInvariants, formatVerdicts, overallVerdict } from './check.ts';
import { installProgressAudit } from './progress-audit.ts';
import { cleanWorld, imageOf, insertImage, standardCaptures, useScratchClient } from './test-world.ts';
import type { InvariantVerdict } from './verdict.ts';

const verdictOf = (verdicts: readonly InvariantVerdict[]) => Object.fromEntries(verdicts.map((v) => [v.id, v.verdict]));

describe('checkInvariants', () => {
  const client = useScratchClient('checker_all');

  test('a consistent world passes all nine, in order I1..I9', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    await installProgressAudit(client());
    const verdicts = await checkInvariants(client(), history.events);
    expect(verdicts.map((v) => v.id)).toEqual(['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9']);
    expect(verdicts.filter((v) => v.verdict !== 'pass')).toEqual([]);
    expect(overallVerdict(verdicts)).toBe('pass');
    const text = formatVerdicts(verdicts);
    expect(text.split('\n')).toHaveLength(9);
    expect(text).toMatch(/^I1 unique \.+ PASS {4}0 duplicate/);
  });

  test('a legacy base-stage world: duplicates fail I1 (and the extra row I8/I5), with offending items printed', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures, { stage: 'base' });
    await installProgressAudit(client());
    const image = imageOf(world, 2);
    const extra = await insertImage(
      client(),
      { ...image, storedName: image.record.imageName },
      { imageId: crypto.randomUUID(), status: 'receiving' },
    );
    const verdicts = await checkInvariants(client(), history.events);
    expect(verdictOf(verdicts)).toEqual({
      I1: 'fail', // two rows 98A316F82928/image_1.jpg
      I2: 'unknown', // no image_blobs on the base stage
      I3: 'unknown',
      I4: 'pass',
      I5: 'fail', // a row left receiving
      I6: 'pass', // nothing re-announced
      I7: 'pass',
      I8: 'pass', // the extra row still names a capture
      I9: 'pass', // nothing malformed sent
    });
    expect(overallVerdict(verdicts)).toBe('fail');
    const text = formatVerdicts(verdicts);
    expect(text).toMatch(/I1 unique \.+ FAIL {4}1 duplicate/);
    expect(text).toContain('      - {"mac":"98A316F82928"');
    expect(text).toContain(extra);
  });

  test('only: evaluates just the invariants asked for', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const verdicts = await checkInvariants(client(), history.events, { only: ['I8', 'I1'] });
    expect(verdicts.map((v) => v.id)).toEqual(['I1', 'I8']);
  });

  test('an unreachable database gives nine verdicts, unknown where the database is needed, never an exception', async () => {
    const server = primaryTarget().server!;
    const pool = newPool(server.urlFor('camfleet_no_such_database'), 1);
    try {
      const verdicts = await checkInvariants(pool, []);
      expect(verdicts).toHaveLength(9);
      // I7 and I9 need nothing from the database when nothing was acked or sent malformed
      expect(verdictOf(verdicts)).toMatchObject({
        I1: 'unknown',
        I2: 'unknown',
        I3: 'unknown',
        I4: 'unknown',
        I8: 'unknown',
      });
      expect(verdicts[0]?.summary).toContain('could not evaluate');
      expect(overallVerdict(verdicts)).toBe('unknown');
    } finally {
      await pool.end();
    }
  });

  test('a malformed history gives unknowns, never an exception', async () => {
    const verdicts = await checkInvariants(client(), [{ type: 'device_captured', seq: 1, atMs: 0 } as never]);
    expect(verdicts.every((v) => v.verdict === 'unknown')).toBe(true);
    expect(verdicts[0]?.summary).toContain('could not read the history');
  });
});

describe('overallVerdict', () => {
  const v = (verdict: InvariantVerdict['verdict']) => ({ verdict }) as InvariantVerdict;
  test('fail beats unknown beats pass', () => {
    expect(overallVerdict([v('pass'), v('unknown'), v('fail')])).toBe('fail');
    expect(overallVerdict([v('pass'), v('unknown')])).toBe('unknown');
    expect(overallVerdict([v('pass'), v('pass')])).toBe('pass');
    expect(overallVerdict([])).toBe('pass');
  });
});
