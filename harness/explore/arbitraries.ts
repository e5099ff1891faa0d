// What explore generates (issue 9 "Arbitraries"): fleets, fault plans and schedules as fast-check arbitraries
// built so that shrinking reaches small counterexamples — every count shrinks towards its minimum (fewer devices,
// fewer images, smaller images), every fault towards off (a rate to 0, a trigger list to empty, fewer points), and
// fault points towards earlier chunks and the first device. The schedule is the run's seed: the sim scheduler draws
// every delivery and interleaving from it, so shrinking tries other seeds too (towards 0).
//
// Points name devices and images by index (fault-points.ts); they are drawn within the largest fleet and clamped
// to the case's own fleet, so a point stays valid while the fleet shrinks under it.
import fc from 'fast-check';
import type { Dialect } from '../../simulator/protocol/index.ts';
import { isFaultOn, type FaultMix } from '../nemesis/fault-plan.ts';
import { formatFaultPoint, type FaultPoint } from '../nemesis/fault-points.ts';
import type { RunStage } from '../run/run-options.ts';
import type { ExploreCase, ExploreFaults, ExploreFleet } from './explore-case.ts';

/** The fleet's bounds (issue 9): 1–8 devices, 1–3 images each, images of 20–120 KB in 1024-byte chunks. */
export const exploreFleetBounds = {
  devicesMax: 8,
  imagesMax: 3,
  imageKbMin: 20,
  imageKbMax: 120,
} as const;

/** Points in one case at most. */
export const POINTS_MAX = 3;
/** Chunks an image of imageKbMax has at most (sizes are the mean ±30 %): bounds a point's chunk index. */
const CHUNK_INDEX_MAX = Math.ceil((exploreFleetBounds.imageKbMax * 1.3 * 1024) / 1024);

export interface ArbitrarySettings {
  readonly faults: FaultMix;
  readonly stage: RunStage;
}

const fleetArb: fc.Arbitrary<ExploreFleet> = fc.record({
  devices: fc.integer({ min: 1, max: exploreFleetBounds.devicesMax }),
  images: fc.integer({ min: 1, max: exploreFleetBounds.imagesMax }),
  imageKb: fc.integer({ min: exploreFleetBounds.imageKbMin, max: exploreFleetBounds.imageKbMax }),
  dialect: fc.constantFrom<Dialect>('fw350', 'spec'),
});

/** A rate: off (what it shrinks to, half the time) or one of `levels` (shrinking towards the lowest). */
function rate(levels: readonly number[]): fc.Arbitrary<number> {
  return fc.option(fc.constantFrom(...levels), { nil: 0, freq: 2 });
}
/** A trigger list: empty (what it shrinks to) or one trigger (trigger.ts) of `triggers`. */
function trigger(triggers: readonly string[]): fc.Arbitrary<readonly string[]> {
  return fc.option(fc.constantFrom(...triggers), { nil: undefined, freq: 2 }).map((t) => (t === undefined ? [] : [t]));
}

const perWake = [0.1, 0.3, 0.6];
const perMessage = [0.01, 0.05];
const progressTriggers = ['1-receiving', '25%', '50%', '75%'];

type RawGroup = Record<string, number | boolean | readonly string[]>;

/** The rates and triggers each mix explores: `default` what real fleets have, `chaos` everything. */
function groupsArb(mix: FaultMix): fc.Arbitrary<{ device: RawGroup; network: RawGroup; server: RawGroup }> {
  if (mix === 'none') return fc.constant({ device: {}, network: {}, server: {} });
  const device: Record<string, fc.Arbitrary<number>> = {
    rebootRate: rate(perWake),
    doubleSendRate: rate(perWake),
    duplicateMetadataRate: rate(perWake),
    counterResetRate: rate(perWake),
    wifiOutageRate: rate(perWake),
    // Clocks good and bad (issue 9 "Fleet"): a wake whose RTC reads 1970 stamps its captures unpadded.
    badClockRate: rate(perWake),
  };
  const network: Record<string, fc.Arbitrary<number | readonly string[]>> = {
    duplicateRate: rate(perMessage),
    reorderRate: rate(perMessage),
    brokerRestartAt: trigger(progressTriggers),
  };
  const server: Record<string, fc.Arbitrary<number | boolean | readonly string[]>> = {
    pipelineRestartAt: trigger(progressTriggers),
  };
  if (mix === 'chaos') {
    Object.assign(device, {
      tornWriteRate: rate(perWake),
      interleavedSendRate: rate(perWake),
      dialectDriftRate: rate(perWake),
      corruptMessageRate: rate(perWake),
    });
    Object.assign(network, {
      dropRate: rate(perMessage),
      delayRate: rate(perMessage),
      disconnectRate: rate(perWake),
    });
    Object.assign(server, {
      killConnectionsAt: trigger(progressTriggers),
      twoInstances: fc.boolean(),
      slowDatabaseMs: fc.option(fc.constantFrom(5, 50), { nil: 0, freq: 2 }),
    });
  }
  return fc.record({ device: fc.record(device), network: fc.record(network), server: fc.record(server) });
}

/** A point in the largest fleet's terms (clamped to the case's fleet by `clampPoint`). */
function pointArb(stage: RunStage): fc.Arbitrary<FaultPoint> {
  const device = fc.integer({ min: 1, max: exploreFleetBounds.devicesMax });
  const image = fc.integer({ min: 1, max: exploreFleetBounds.imagesMax });
  const chunk = fc.integer({ min: 0, max: CHUNK_INDEX_MAX });
  const kinds: fc.Arbitrary<FaultPoint>[] = [
    fc.record({ kind: fc.constant('reboot' as const), device, image, afterChunks: chunk }),
    fc.record({ kind: fc.constant('crash-before-ack' as const), device, image }),
    fc.record({ kind: fc.constant('drop-puback' as const), device, image, chunk }),
    fc.record({ kind: fc.constant('counter-reset' as const), device, wake: fc.integer({ min: 1, max: 4 }) }),
  ];
  // The mid-run migration applies cleanup and resume: it means something only on the base stage (fault-plan.ts).
  if (stage === 'base')
    kinds.push(fc.record({ kind: fc.constant('migrate' as const), inFlight: fc.integer({ min: 1, max: 4 }) }));
  return fc.oneof(...kinds);
}

/** The point within a fleet of `fleet`'s size: device and image clamped to the last there is. */
export function clampPoint(point: FaultPoint, fleet: ExploreFleet): FaultPoint {
  const within = (value: number, max: number) => Math.min(value, max);
  switch (point.kind) {
    case 'reboot':
    case 'drop-puback':
      return { ...point, device: within(point.device, fleet.devices), image: within(point.image, fleet.images) };
    case 'crash-before-ack':
      return {
        ...point,
        ...(point.device === undefined ? {} : { device: within(point.device, fleet.devices) }),
        ...(point.image === undefined ? {} : { image: within(point.image, fleet.images) }),
      };
    case 'counter-reset':
      return { ...point, device: within(point.device, fleet.devices) };
    case 'migrate':
      return point;
  }
}

/** Only what is on, points clamped to the fleet and each kept once (a point given twice is refused). */
function caseOf(
  fleet: ExploreFleet,
  groups: { device: RawGroup; network: RawGroup; server: RawGroup },
  points: readonly FaultPoint[],
  seed: number,
): ExploreCase {
  const on = (group: RawGroup) => Object.fromEntries(Object.entries(group).filter(([, v]) => isFaultOn(v)));
  const kept: FaultPoint[] = [];
  const seen = new Set<string>();
  for (const point of points) {
    const clamped = clampPoint(point, fleet);
    const text = formatFaultPoint(clamped);
    if (seen.has(text) || (clamped.kind === 'migrate' && kept.some((p) => p.kind === 'migrate'))) continue;
    seen.add(text);
    kept.push(clamped);
  }
  const faults: ExploreFaults = {
    device: on(groups.device),
    network: on(groups.network),
    server: on(groups.server),
    points: kept,
  };
  return { fleet, faults, seed };
}

/** Cases for one exploration: fleets, the mix's faults and points, and seeds. */
export function exploreCaseArb(settings: ArbitrarySettings): fc.Arbitrary<ExploreCase> {
  const points =
    settings.faults === 'none' ? fc.constant([]) : fc.array(pointArb(settings.stage), { maxLength: POINTS_MAX });
  return fc
    .tuple(fleetArb, groupsArb(settings.faults), points, fc.nat({ max: 0x7fffffff }))
    .map(([fleet, groups, pts, seed]) => caseOf(fleet, groups, pts, seed));
}
