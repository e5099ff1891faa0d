// Runs in every test file before its tests (vitest setupFiles): `SEED=<n>` fixes fast-check's seed for every
// property, so the counterexample a failure printed runs again (`SEED=123 npm test -- FILE`; suites that take
// propertyParams() also take the printed path as FC_PATH). See test/property-runs.ts.
import fc from 'fast-check';
import { replaySeed } from './property-runs.ts';

const seed = replaySeed();
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
