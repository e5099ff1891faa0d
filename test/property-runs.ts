// How many cases a property runs, and how a failing one is replayed (issue 9). Property suites take their
// parameters from `propertyParams(n)`: `n` cases in a plain `npm test`, ten times as many under `npm run test:deep`
// (CAMFLEET_DEEP=1, nightly use), and the counterexample fast-check printed (`seed`, `path`) again with
// `SEED=… FC_PATH=… npm test -- FILE`. test/fast-check-setup.ts also sets SEED globally, for every property.

/** Cases per property under `npm run test:deep`, per case in a plain `npm test`. */
export const DEEP_RUNS_FACTOR = 10;

export function isDeepRun(): boolean {
  const deep = process.env.CAMFLEET_DEEP;
  return deep !== undefined && deep !== '' && deep !== '0';
}

/** `numRuns` for a property: `n` in a plain run, `DEEP_RUNS_FACTOR × n` in a deep one. */
export function propertyRuns(n: number): number {
  return isDeepRun() ? n * DEEP_RUNS_FACTOR : n;
}

/** The replay seed (`SEED`), or undefined; throws on one that is not a whole number. */
export function replaySeed(): number | undefined {
  const text = process.env.SEED;
  if (text === undefined || text === '') return undefined;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`SEED must be a whole number (fast-check's seed), got "${text}"`);
  return seed;
}

/** Parameters for `fc.assert` / `test.prop`: the case count, and the replay seed and path when given. */
export function propertyParams(n: number): { numRuns: number; seed?: number; path?: string } {
  const seed = replaySeed();
  const path = process.env.FC_PATH;
  if (seed === undefined && path !== undefined && path !== '')
    throw new Error('FC_PATH replays a counterexample only with the SEED it was found with: set both');
  return {
    numRuns: propertyRuns(n),
    ...(seed === undefined ? {} : { seed }),
    ...(seed === undefined || path === undefined || path === '' ? {} : { path }),
  };
}
