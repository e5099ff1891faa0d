// One case of the exploration property (issue 9): a fleet, a fault plan and a schedule seed — plain data that
// fast-check generates and shrinks (arbitraries.ts) — and the scenario spec it is run as. A case is always run
// through its spec (`caseScenario` → scenarios/to-run-options.ts), so the scenario file explore writes for a
// counterexample is exactly what ran, not a second translation of it.
import {
  faultParameterFields,
  isFaultOn,
  type DeviceFaults,
  type NetworkFaults,
  type ServerFaults,
} from '../nemesis/fault-plan.ts';
import { formatFaultPoint, type FaultPoint } from '../nemesis/fault-points.ts';
import type { Dialect } from '../../simulator/protocol/index.ts';
import type { InvariantId } from '../checker/index.ts';
import type { FirmwareProfile } from '../../simulator/firmware/index.ts';
import type { PipelineProfile } from '../pipeline/options.ts';
import type { RunStage } from '../run/run-options.ts';
import type { Scenario } from '../../scenarios/spec.ts';

export interface ExploreFleet {
  readonly devices: number;
  readonly images: number;
  readonly imageKb: number;
  readonly dialect: Dialect;
}

/** Only the faults that are on: a rate above 0, a non-empty trigger list, a `true`. */
export interface ExploreFaults {
  readonly device: Partial<DeviceFaults>;
  readonly network: Partial<NetworkFaults>;
  readonly server: Partial<ServerFaults>;
  /** Faults at logical points, within the fleet's devices and images (fault-points.ts). */
  readonly points: readonly FaultPoint[];
}

export interface ExploreCase {
  readonly fleet: ExploreFleet;
  readonly faults: ExploreFaults;
  /** The run's seed: the fault draws and every choice of the sim scheduler (the schedule). */
  readonly seed: number;
}

/** What does not vary between the cases of one exploration. */
export interface ExploreTarget {
  readonly pipeline: PipelineProfile;
  readonly stage: RunStage;
  /** The devices' firmware (default fw350, the faithful v3.5.0). */
  readonly firmware?: FirmwareProfile;
  /** The opt-in protocol option "ACK names the capture" on both sides (default off, as v3.5.0). */
  readonly ackNamesCapture?: boolean;
}

/** The size of a case, as the shrink reports it: fewer is smaller. */
export interface CaseSize {
  readonly devices: number;
  /** Images in the whole fleet. */
  readonly images: number;
  readonly faults: number;
  readonly imageKb: number;
}

/** Faults of a group switched on, each trigger of a list counted. */
function faultsOn(group: object): number {
  let on = 0;
  for (const [key, value] of Object.entries(group)) {
    if (faultParameterFields.has(key) || !isFaultOn(value)) continue;
    on += Array.isArray(value) ? value.length : 1;
  }
  return on;
}

/** Faults in a case: each rate switched on, each trigger, each point (a migrate point included). */
export function faultCount(faults: ExploreFaults): number {
  return faultsOn(faults.device) + faultsOn(faults.network) + faultsOn(faults.server) + faults.points.length;
}

export function caseSize(c: ExploreCase): CaseSize {
  return {
    devices: c.fleet.devices,
    images: c.fleet.devices * c.fleet.images,
    faults: faultCount(c.faults),
    imageKb: c.fleet.imageKb,
  };
}

/** `3 devices, 6 images, 2 faults` (the counterexample line's words). */
export function describeSize(size: CaseSize): string {
  return `${size.devices} devices, ${size.images} images, ${size.faults} faults`;
}

/** One line: the fleet, the faults switched on and the seed. */
export function describeCase(c: ExploreCase): string {
  const on: string[] = [];
  for (const [group, values] of Object.entries({
    device: c.faults.device,
    network: c.faults.network,
    server: c.faults.server,
  })) {
    for (const [key, value] of Object.entries(values)) {
      if (faultParameterFields.has(key)) continue;
      on.push(`${group}.${key}=${Array.isArray(value) ? value.join('+') : String(value)}`);
    }
  }
  for (const point of c.faults.points) on.push(formatFaultPoint(point));
  const { devices, images, imageKb, dialect } = c.fleet;
  return `${devices}×${images} images of ~${imageKb} KB (${dialect} dialect), faults: ${on.length === 0 ? 'none' : on.join(' ')}, seed ${c.seed}`;
}

/** A run's whole-run limit in a case's spec: far above what a small sim run takes, so only a stall reaches it. */
export const EXPLORE_TIME_BUDGET_S = 120;

export interface CaseScenarioSettings {
  readonly name: string;
  readonly purpose: string;
  /** The invariants that failed (the expectation); none: the spec expects `pass`. */
  readonly failed?: readonly InvariantId[];
}

/** The case as a scenario spec: sim only (its schedule is the sim scheduler's), expectation = what failed. */
export function caseScenario(c: ExploreCase, target: ExploreTarget, settings: CaseScenarioSettings): Scenario {
  const { device, network, server, points } = c.faults;
  const failed = settings.failed ?? [];
  return {
    name: settings.name,
    purpose: settings.purpose,
    fleet: { devices: c.fleet.devices, images: c.fleet.images, imageKb: c.fleet.imageKb, dialect: c.fleet.dialect },
    pipeline: target.pipeline,
    ...(target.firmware === undefined || target.firmware === 'fw350' ? {} : { firmware: target.firmware }),
    ...(target.ackNamesCapture === true ? { ackNamesCapture: true } : {}),
    stage: target.stage,
    faults: {
      mix: 'none',
      ...(Object.keys(device).length > 0 ? { device } : {}),
      ...(Object.keys(network).length > 0 ? { network } : {}),
      ...(Object.keys(server).length > 0 ? { server } : {}),
      ...(points.length > 0 ? { points } : {}),
    },
    timeBudgetS: EXPLORE_TIME_BUDGET_S,
    expect: failed.length === 0 ? 'pass' : { fail: [...failed] },
    seed: c.seed,
    exercises: [],
    modes: ['sim'],
    simOnlyBecause:
      'found by npm run explore: the schedule that shows it is the sim scheduler’s for this seed; a live run takes another',
  };
}
