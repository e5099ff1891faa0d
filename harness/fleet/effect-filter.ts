// The seam where something outside a device acts on it (ARCHITECTURE.md §8: "device faults are a filter the nemesis
// puts around that interpreter"). The driver asks its filter at three points — as a wake starts, on the effects of
// every firmware step before carrying them out, and after each effect it carried out — and offers the few actions a
// filter may take through `FilteredDevice`. Nothing here names a fault: the fleet only knows that a filter may take
// the network away for a wake, set the device's clock off, reorder or repeat effects, write the flash counter, lose
// an SD-queue entry, publish a message the firmware did not emit, and cut the power. What each of those means, and
// when it happens, is the filter's business (the nemesis': harness/nemesis/device-fault-filter.ts).
import type {
  CapturedImageInfo,
  FirmwareEffect,
  FirmwareState,
  TimestampStyle,
} from '../../simulator/firmware/index.ts';
import type { Dialect } from '../../simulator/protocol/index.ts';
import type { NewHistoryEvent } from '../history/events.ts';

/** What a wake is like, decided by the filter as it starts. */
export interface WakeConditions {
  /** No network this wake: every connect fails at once without touching the link (the firmware goes on offline).
   *  Such a wake does not count against the fleet's `wakesMax`: it could not have delivered anything. */
  readonly offline: boolean;
  /** The device clock reads this much later than it should for this wake (0: right). Wake-up times the firmware
   *  asks for are read off that clock, so the driver carries them back to the true one. */
  readonly clockOffsetMs: number;
  /** How the firmware writes timestamps this wake (absent: its own default). */
  readonly timestampStyle?: TimestampStyle;
}

/** A wake as the firmware alone would have it (also every wake of a device without a filter). */
export const plainWake: WakeConditions = { offline: false, clockOffsetMs: 0 };

/** One device as its filter sees it, and what the filter may ask its driver to do. */
export interface FilteredDevice {
  readonly mac: string;
  /** Wakes so far, the current one included (1-based; a reboot inside a wake does not start a new one). */
  readonly wakes: number;
  readonly state: FirmwareState;
  /** The dialect the device speaks, and the chunk-id base of its deployment (to encode a message as it would). */
  readonly dialect: Dialect;
  readonly chunkIdBase: 0 | 1;
  /** The device's clock (its RTC as it should read, without this wake's offset). */
  clockNowMs(): number;
  /** Records that the filter acted on this device: a `nemesis` history event (`fault: name`, target this device),
   *  counted in FleetCounters.faultsInjected. Recorded the moment it is called, so in order with what the device does. */
  recordAction(name: string, detail: string): void;
  /** Appends any other event to the run history (what the device did because of the filter). */
  record(event: NewHistoryEvent): void;
  /** Writes the image counter in flash (it survives reboots). */
  writeImageCounter(value: number): void;
  /** This capture's SD-queue entry is gone: removed from the queue, recorded as `device_lost_capture` and counted
   *  (FleetCounters.capturesLost). */
  loseQueuedCapture(image: Pick<CapturedImageInfo, 'captureSeq' | 'name' | 'sha256'>): void;
  /** The power goes: the rest of the current step's effects never happen and the device boots again (RAM lost; SD
   *  queue and flash kept). Only meaningful from `afterEffect`. */
  cutPower(): void;
  /** Publishes a payload the firmware did not emit, on the device's own link. */
  publishRaw(topic: string, payload: string): void;
}

/** Put around one device's effect interpreter for the safety phase; the heal phase drops it (`plainWake` after). */
export interface DeviceEffectFilter {
  /** Once, as the device is built: the dialect it speaks, given the fleet's. */
  dialect(fleetDialect: Dialect): Dialect;
  /** As each wake starts, before it is recorded and fed to the firmware. */
  beginWake(device: FilteredDevice): WakeConditions;
  /** The effects of one firmware step, before the driver carries them out: the filter may reorder, repeat, drop or
   *  rewrite them (the firmware's state is already the step's result). */
  filterEffects(effects: readonly FirmwareEffect[], device: FilteredDevice): readonly FirmwareEffect[];
  /** Right after the driver carried out one effect (published it, recorded it…). */
  afterEffect(effect: FirmwareEffect, device: FilteredDevice): void;
  /** The filter is dropped (the safety phase is over): the last moment it may record anything about this device. */
  end?(device: FilteredDevice): void;
}
