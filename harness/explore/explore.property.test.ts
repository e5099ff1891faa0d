// Issue 9, property suites 1 and 2, through explore itself (sim mode, generated fleets, fault plans and schedules):
// 1. `fixed` on the resume stage, with the protocol option "ACK names the capture": no case breaks an invariant
//    (without it, v3.5.0's counter-reset hazard is a real counterexample: README, scenarios/regressions/);
// 2. each legacy pipeline profile and each firmware bug profile: explore finds the bug within the run budget and
//    shrinks it to at most 2 devices and 2 faults, and the scenario file it writes fails the same way again.
// fast-check's seed is random unless SEED is given; a failure prints it (test/property-runs.ts).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { propertyRuns, replaySeed } from '../../test/property-runs.ts';
import { tempDir } from '../../test/temp-dir.ts';
import { loadScenario } from '../../scenarios/spec.ts';
import type { InvariantId } from '../checker/index.ts';
import type { PipelineProfile } from '../pipeline/options.ts';
import type { FirmwareProfile } from '../../simulator/firmware/index.ts';
import { describeCase, describeSize } from './explore-case.ts';
import { exploreStageDefault } from './explore-stage.ts';
import { explore, type ExploreResult } from './explore.ts';
import { ExploreWorld } from './explore-world.ts';
import { writeFoundScenario } from './found-scenario.ts';
import { join } from 'node:path';

const seed = replaySeed() ?? Math.floor(Math.random() * 0x7fffffff);
const server = primaryTarget().server;
let world: ExploreWorld;

beforeAll(async () => {
  world = await ExploreWorld.open(server?.url, 2);
});
afterAll(async () => {
  await world.close();
});

function described(result: ExploreResult): string {
  const found = result.counterexample;
  return `SEED=${seed}: ${result.searchRuns} runs, ${
    found === undefined
      ? 'no counterexample'
      : `counterexample ${describeSize(found.size)}, ${found.failed.join(',')}: ${describeCase(found.case)}`
  }${result.errored > 0 ? `; ${result.errored} runs threw, the first: ${result.firstError ?? ''}` : ''}`;
}

describe('explore, property suite 1: fixed on the resume stage (ACK names the capture)', () => {
  test('no generated fleet, fault plan or schedule breaks an invariant', { timeout: 600_000 }, async () => {
    const result = await explore(
      {
        pipeline: 'fixed',
        ackNamesCapture: true,
        stage: 'resume',
        faults: 'default',
        runs: propertyRuns(12),
        seed,
        databaseUrl: server?.url,
      },
      world,
    );
    expect(result.counterexample, described(result)).toBeUndefined();
    expect(result.errored, described(result)).toBe(0);
    expect(result.searchRuns).toBe(propertyRuns(12));
  });
});

/** The invariant that names each profile's bug (harness/pipeline/core/profile.ts): the shrunk case fails one. */
const caughtBy: Readonly<Record<Exclude<PipelineProfile, 'fixed'>, readonly InvariantId[]>> = {
  'legacy-insert': ['I1'],
  'legacy-two-writers': ['I1'],
  'legacy-memory-chunks': ['I4', 'I5', 'I2'],
  'legacy-reset-count': ['I4'],
  'legacy-ttl': ['I4', 'I5'],
};

/** The firmware bug profiles (simulator/firmware/profile.ts) against `fixed`, and what each breaks. */
const firmwareCaughtBy: Readonly<Partial<Record<FirmwareProfile, readonly InvariantId[]>>> = {
  'fw-resend-new-bytes': ['I2', 'I3', 'I5'],
  'fw-one-based-ids': ['I5'],
};

interface Target {
  readonly name: string;
  readonly pipeline: PipelineProfile;
  readonly firmware?: FirmwareProfile;
  readonly invariants: readonly InvariantId[];
}

const targets: Target[] = [
  ...(Object.entries(caughtBy) as [Exclude<PipelineProfile, 'fixed'>, InvariantId[]][]).map(
    ([pipeline, invariants]): Target => ({ name: pipeline, pipeline, invariants }),
  ),
  ...(Object.entries(firmwareCaughtBy) as [FirmwareProfile, InvariantId[]][]).map(([firmware, invariants]): Target => ({
    name: `fixed + ${firmware}`,
    pipeline: 'fixed',
    firmware,
    invariants,
  })),
];

describe('explore, property suite 2: every legacy pipeline and firmware bug profile is found and shrunk', () => {
  for (const { name, pipeline, firmware, invariants } of targets) {
    test(
      `${name}: found, shrunk to ≤ 2 devices and ≤ 2 faults, written as a scenario that fails again`,
      {
        timeout: 600_000,
      },
      async () => {
        const settings = {
          pipeline,
          ...(firmware === undefined ? {} : { firmware }),
          stage: exploreStageDefault(pipeline),
          faults: 'default' as const,
          runs: propertyRuns(30),
          seed,
          databaseUrl: server?.url,
          // Enough for every profile's shrink to finish (measured: 54 runs at most, seed 1); a bound keeps CI short.
          shrinkRunsMax: 60,
        };
        const result = await explore(settings, world);
        const found = result.counterexample;
        expect(found, described(result)).toBeDefined();
        if (found === undefined) return;
        expect(found.size.devices, described(result)).toBeLessThanOrEqual(2);
        expect(found.size.faults, described(result)).toBeLessThanOrEqual(2);
        expect(
          found.failed.some((id) => invariants.includes(id)),
          described(result),
        ).toBe(true);
        // The shrink only ever moves to smaller-or-equal failing cases.
        expect(found.size.devices).toBeLessThanOrEqual(found.found.size.devices);
        const dir = tempDir('camfleet-explore-');
        const written = await writeFoundScenario(found, settings, world, join(dir, 'found.json'), dir);
        expect(written.confirmed, `re-run failed ${written.confirmedFailed.join(',')}; ${described(result)}`).toBe(
          true,
        );
        const read = loadScenario(written.file, { requireFileName: false });
        expect(read).toEqual(written.scenario);
        expect(read.expect).toEqual({ fail: found.failed });
      },
    );
  }
});
