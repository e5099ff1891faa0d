// The shrink's own rules, on a synthetic lane whose verdicts are a pure function of the case (no run): it keeps
// the found case's first failing invariant (a smaller case that fails only another one is another bug), and it runs
// each distinct case once (fast-check reaches one case again from other raw values).
import { describe, expect, test } from 'vitest';
import type { InvariantVerdict } from '../checker/index.ts';
import type { LiveRunOptions } from '../run/run-options.ts';
import type { SimRunResult } from '../run/sim-run.ts';
import { explore, keptInvariant, type ExploreRun } from './explore.ts';
import type { ExploreLane, ExploreWorld } from './explore-world.ts';

/** I4 fails with 2 devices or more, I7 with 3 or fewer: 1 device fails I7 alone. */
function verdictsOf(options: LiveRunOptions): InvariantVerdict[] {
  const fails = (id: 'I4' | 'I7', failing: boolean): InvariantVerdict =>
    ({ id, verdict: failing ? 'fail' : 'pass' }) as InvariantVerdict;
  return [fails('I4', options.devices >= 2), fails('I7', options.devices <= 3)];
}

function syntheticWorld(): ExploreWorld {
  const lane: ExploreLane = {
    run: (options) => Promise.resolve({ verdicts: verdictsOf(options) } as unknown as SimRunResult),
  };
  return { lanes: [lane, lane], serverUrl: 'postgres://synthetic/unused' } as unknown as ExploreWorld;
}

describe('the shrink', () => {
  test('keptInvariant is the first failing invariant, in the checker order', () => {
    expect(keptInvariant(['I4', 'I7'])).toBe('I4');
    expect(() => keptInvariant([])).toThrow(/no invariant/);
  });

  test.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: keeps the found failure and runs each case once', async (seed) => {
    const runs: ExploreRun[] = [];
    const result = await explore(
      { pipeline: 'fixed', stage: 'resume', faults: 'default', runs: 20, seed, databaseUrl: undefined },
      syntheticWorld(),
      { onRun: (run) => runs.push(run) },
    );
    const found = result.counterexample;
    if (found === undefined) throw new Error('every case fails one invariant here');
    const kept = keptInvariant(found.found.failed);
    expect(found.failed).toContain(kept);
    for (const step of found.shrinkSteps) expect(step.failed).toContain(kept);
    // From a case failing I4 the smallest that still does has 2 devices (1 device fails only I7).
    expect(found.size.devices).toBe(kept === 'I4' ? 2 : 1);
    const shrinkCases = runs.filter((r) => r.phase === 'shrink').map((r) => JSON.stringify(r.case));
    expect(new Set(shrinkCases).size).toBe(shrinkCases.length);
  });
});
