// The device faults of ARCHITECTURE.md §4 as an effect filter around one device's driver (harness/fleet/
// effect-filter.ts): the decisions are DeviceNemesis' (device-nemesis.ts), this file makes them strike at the points
// the fleet's seam offers, and records each one as a `nemesis` event the moment it strikes. The firmware heals them.
// The fleet knows none of this; the run builds one filter per device (`deviceFaultFilters`) and passes them in.
import type { CapturedImageInfo, FirmwareEffect } from '../../simulator/firmware/index.ts';
import type { Dialect, DeviceMessage } from '../../simulator/protocol/index.ts';
import type { Rng } from '../../simulator/random/prng.ts';
import {
  plainWake,
  type DeviceEffectFilter,
  type FilteredDevice,
  type WakeConditions,
} from '../fleet/effect-filter.ts';
import { corruptMessage, type CorruptKind } from './corrupt-message.ts';
import {
  BAD_CLOCK_WAKE_MS,
  DeviceNemesis,
  driftedDialect,
  rebootAfterChunks,
  transferOrder,
  type DeviceFaultName,
} from './device-nemesis.ts';
import type { DeviceFaults } from './fault-plan.ts';
import { DevicePoints, type DevicePoint } from './device-points.ts';

/**
 * One filter per device, each with its own DeviceNemesis on `fleetRng.fork('nemesis:device:<mac>')` — the stream
 * the fleet forked before the filter existed, so a seed gives the same faults as it always did. `fleetRng` is the
 * Rng the fleet itself is given (FleetOptions.rng).
 */
export function deviceFaultFilters(
  faults: DeviceFaults,
  fleetRng: Rng,
  /** The faults at logical points of the device at this 1-based fleet index (device-points.ts). Default none. */
  pointsOf: (index: number) => readonly DevicePoint[] = () => [],
): (mac: string, index: number) => DeviceFaultFilter {
  return (mac, index) =>
    new DeviceFaultFilter(
      new DeviceNemesis(faults, fleetRng.fork(`nemesis:device:${mac}`)),
      new DevicePoints(pointsOf(index)),
    );
}

/** The reboot planned for this wake: strikes after `afterChunks` chunk publishes of the current transfer. */
interface RebootArm {
  readonly fraction: number;
  imageName: string | null;
  afterChunks: number;
  totalChunks: number;
  chunksSent: number;
}

export class DeviceFaultFilter implements DeviceEffectFilter {
  /** Set for the wake by `beginWake` (null: no reboot planned, or it struck already). */
  private reboot: RebootArm | null = null;
  /** At most one torn write per wake, so a device cannot lose every capture of a wake in a reboot loop. */
  private tornThisWake = false;
  /** Image transfers started so far (the nemesis' per-send opportunity index). */
  private sendsStarted = 0;
  /** Corrupt-message fault: the malformed message to publish after the next metadata of that image name. */
  private readonly corruptPending = new Map<string, CorruptKind>();

  constructor(
    private readonly nemesis: DeviceNemesis,
    /** Exact faults at logical points (they need no draw from the seed, so they shift none of the nemesis'). */
    private readonly points: DevicePoints = new DevicePoints([]),
  ) {}

  /** Dialect drift: this device speaks the other dialect (chunk ids stay 0-based: a per-deployment setting). */
  dialect(fleetDialect: Dialect): Dialect {
    return this.nemesis.dialectDrift ? driftedDialect(fleetDialect) : fleetDialect;
  }

  /** Per-wake faults, before the wake starts: counter reset, bad clock, Wi-Fi outage, a reboot armed. */
  beginWake(device: FilteredDevice): WakeConditions {
    const record = (fault: DeviceFaultName, detail: string) => device.recordAction(fault, detail);
    // A point first: a counter reset planned for this very wake is the one the user asked for.
    this.points.beforeWake(device);
    if (device.wakes === 1 && this.nemesis.dialectDrift)
      record('dialect_drift', `speaks the ${device.dialect} dialect`);
    const plan = this.nemesis.planWake(device.wakes);
    this.tornThisWake = false;
    this.reboot = null;
    const counter = device.state.persistent.flash.imageCounter;
    if (plan.counterReset && counter > 0) {
      // Healing: none needed on the device; the pipeline must tell the new picture from the old (name reuse).
      device.writeImageCounter(0);
      record('counter_reset', `wake ${plan.wake}: flash counter ${counter} -> 0`);
    }
    let conditions: WakeConditions = plainWake;
    if (plan.badClock) {
      conditions = {
        ...conditions,
        clockOffsetMs: BAD_CLOCK_WAKE_MS - device.clockNowMs(),
        timestampStyle: 'unpadded',
      };
      record('bad_clock', `wake ${plan.wake}: clock reads 1970, unpadded timestamps`);
    }
    if (plan.wifiOutageStarts > 0) {
      record('wifi_outage', `wakes ${plan.wake}..${plan.wake + plan.wifiOutageStarts - 1} without Wi-Fi`);
    }
    // Wi-Fi down: every join fails without the network being touched (the firmware captures offline).
    if (plan.wifiOutage) conditions = { ...conditions, offline: true };
    if (plan.rebootAtFraction !== null) {
      this.reboot = { fraction: plan.rebootAtFraction, imageName: null, afterChunks: 0, totalChunks: 0, chunksSent: 0 };
    }
    return conditions;
  }

  /**
   * Double send, interleaved send and duplicate metadata: each transfer the firmware emits in this step
   * (a metadata publish and the chunk publishes of that image right after it) goes out in the order the nemesis
   * says (`transferOrder`). Chunk re-sends without metadata (missing_chunks answers) are not transfers.
   */
  filterEffects(effects: readonly FirmwareEffect[], device: FilteredDevice): readonly FirmwareEffect[] {
    if (!this.nemesis.sendFaultsOn) return effects;
    const out: FirmwareEffect[] = [];
    let i = 0;
    while (i < effects.length) {
      const effect = effects[i] as FirmwareEffect;
      if (effect.type !== 'publish' || effect.message.kind !== 'metadata') {
        out.push(effect);
        i += 1;
        continue;
      }
      const name = effect.message.image_name;
      const block: FirmwareEffect[] = [effect];
      i += 1;
      for (; i < effects.length; i++) {
        const next = effects[i] as FirmwareEffect;
        if (next.type !== 'publish' || next.message.kind !== 'chunk' || next.message.image_name !== name) break;
        block.push(next);
      }
      const faults = this.nemesis.sendFaults(this.sendsStarted++);
      const chunks = block.length - 1;
      if (faults.mode === 'double')
        device.recordAction('double_send', `${name}: sent twice back to back (${chunks} chunks)`);
      if (faults.mode === 'interleaved') {
        device.recordAction('interleaved_send', `${name}: two transfers, chunks interleaved (${chunks} chunks)`);
      }
      if (faults.duplicateMetadata) device.recordAction('duplicate_metadata', `${name}: metadata published twice`);
      if (faults.corrupt !== undefined) {
        device.recordAction('corrupt_message', `${name}: one ${faults.corrupt} message besides the transfer`);
        this.corruptPending.set(name, faults.corrupt);
      }
      for (const index of transferOrder(chunks, faults)) out.push(block[index] as FirmwareEffect);
    }
    return out;
  }

  afterEffect(effect: FirmwareEffect, device: FilteredDevice): void {
    if (effect.type === 'publish' && this.points.afterPublish(effect.message, device)) {
      device.cutPower(); // a reboot point: the rest of the step is lost, as with the drawn reboot
      return;
    }
    if (effect.type === 'publish') {
      this.armedReboot(effect.message, device);
      if (effect.message.kind === 'metadata') this.publishCorrupt(effect.message, device);
    } else if (effect.type === 'captured') {
      this.maybeTearWrite(effect.image, device);
    }
  }

  /** The safety phase is over: points that never struck are recorded as missed. */
  end(device: FilteredDevice): void {
    this.points.end(device);
  }

  /**
   * Corrupt-message fault: the malformed message planned for this transfer, right after its first metadata, on the
   * device's own data topic. The real transfer goes on untouched; the pipeline must record this one (I9).
   */
  private publishCorrupt(metadata: Extract<DeviceMessage, { kind: 'metadata' }>, device: FilteredDevice): void {
    const kind = this.corruptPending.get(metadata.image_name);
    if (kind === undefined) return;
    this.corruptPending.delete(metadata.image_name);
    const wire = corruptMessage(kind, metadata, device.dialect, { chunkIdBase: device.chunkIdBase });
    device.publishRaw(wire.topic, wire.payload);
    device.record({
      type: 'device_sent_malformed',
      mac: device.mac,
      topic: wire.topic,
      kind: wire.kind,
      expectedCode: wire.expectedCode,
    });
  }

  /** Reboot fault: count the chunk publishes of the current transfer and cut the power after the planned one. */
  private armedReboot(message: DeviceMessage, device: FilteredDevice): void {
    const arm = this.reboot;
    if (arm === null) return;
    if (message.kind === 'metadata') {
      // Each transfer start re-arms on that transfer: the reboot strikes the transfer in progress.
      arm.imageName = message.image_name;
      arm.totalChunks = message.total_chunk_count;
      arm.afterChunks = rebootAfterChunks(arm.fraction, message.total_chunk_count);
      arm.chunksSent = 0;
      return;
    }
    if (message.kind !== 'chunk' || message.image_name !== arm.imageName) return;
    arm.chunksSent += 1;
    if (arm.chunksSent < arm.afterChunks) return;
    this.reboot = null; // once per wake
    device.recordAction(
      'reboot',
      `wake ${device.wakes}: ${arm.imageName} after ${arm.chunksSent} of ${arm.totalChunks} chunks (RAM lost, SD kept)`,
    );
    device.cutPower();
  }

  /** Torn SD write: the capture's queue entry is lost and the device reboots (recorded as a lost capture). */
  private maybeTearWrite(image: CapturedImageInfo, device: FilteredDevice): void {
    if (this.tornThisWake || !this.nemesis.tornWrite(image.captureSeq)) return;
    this.tornThisWake = true;
    device.recordAction('torn_write', `${image.name} (capture ${image.captureSeq}): SD-queue entry lost, power cut`);
    device.loseQueuedCapture(image);
    device.cutPower();
  }
}
