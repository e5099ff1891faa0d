// Device faults (ARCHITECTURE.md §4): which fault strikes which device when, decided from the run's seed and the
// rates of `DeviceFaults`. Pure decisions only — device-fault-filter.ts injects them through the fleet's effect
// filter seam, records each one as a `nemesis` history event and lets the firmware heal. Every decision reads its
// own stream forked from the device's nemesis Rng by a label naming the opportunity (`wake:<n>`, `capture:<seq>`,
// `send:<n>`), so one decision never shifts another and the same seed gives the same faults at the same
// opportunities.
import type { Dialect } from '../../simulator/protocol/index.ts';
import type { Rng } from '../../simulator/random/prng.ts';
import { corruptKinds, type CorruptKind } from './corrupt-message.ts';
import type { DeviceFaults } from './fault-plan.ts';

/** The `fault` field of the `nemesis` history events the device side emits. */
export type DeviceFaultName =
  | 'reboot'
  | 'torn_write'
  | 'counter_reset'
  | 'double_send'
  | 'interleaved_send'
  | 'duplicate_metadata'
  | 'wifi_outage'
  | 'bad_clock'
  | 'dialect_drift'
  | 'corrupt_message';

/** A device clock that lost its NTP sync reads shortly after the epoch: 1970-01-01T00:00:12Z at the wake. */
export const BAD_CLOCK_WAKE_MS = 12_000;

/** What the nemesis does to one wake (decided before the wake starts). */
export interface WakeFaults {
  /** 1-based wake number of the device (the fleet's count, reboots inside a wake do not start a new one). */
  readonly wake: number;
  /** Set the flash counter to 0 before the wake (a counter at 0 already is left alone: nothing to reset). */
  readonly counterReset: boolean;
  /** The RTC reads 1970 this wake and timestamps go unpadded. */
  readonly badClock: boolean;
  /** No Wi-Fi this wake: every connect fails. */
  readonly wifiOutage: boolean;
  /** On the first wake of an outage: its length in wakes (`wifiOutageWakes`); 0 otherwise. */
  readonly wifiOutageStarts: number;
  /**
   * Reboot during the first transfer of this wake: after chunk publish number floor(fraction × total) + 1 of it,
   * so anywhere from after chunk 0 to after the last chunk (before its ACK). null: no reboot this wake.
   */
  readonly rebootAtFraction: number | null;
}

/** How one image transfer (metadata + its chunks, as the firmware emits it) goes out on the wire. */
export interface SendFaults {
  /** once: as the firmware sent it; double: the whole transfer twice back to back; interleaved: two transfers of
   *  the image with their chunks interleaved. */
  readonly mode: 'once' | 'double' | 'interleaved';
  /** The metadata message published twice in a row (in each copy of the transfer). */
  readonly duplicateMetadata: boolean;
  /** Also publish one malformed message of this kind, right after the transfer's first metadata. */
  readonly corrupt?: CorruptKind;
}

/** The chunk publish count after which a reboot strikes a transfer of `totalChunks` chunks (1..totalChunks). */
export function rebootAfterChunks(fraction: number, totalChunks: number): number {
  const total = Math.max(1, Math.floor(totalChunks));
  return Math.min(total, Math.floor(Math.max(0, fraction) * total) + 1);
}

/** The other dialect: a device that drifted speaks the one its fleet does not. */
export function driftedDialect(dialect: Dialect): Dialect {
  return dialect === 'fw350' ? 'spec' : 'fw350';
}

/**
 * One device's nemesis. Per-device decisions are made once at construction (dialect drift); per-wake ones by
 * `planWake`, which also carries the Wi-Fi outage across wakes: an outage lasts `wifiOutageWakes` wakes and is
 * always followed by at least one wake with Wi-Fi (its healing step: the queue drains with send_all_pending), so
 * even a rate of 1 leaves the device wakes to deliver in.
 */
export class DeviceNemesis {
  /** The device speaks the other dialect for its whole life (per device, dialectDriftRate). */
  readonly dialectDrift: boolean;
  private outageWakesLeft = 0;
  private healWakeDue = false;
  private lastWake = 0;

  constructor(
    readonly faults: DeviceFaults,
    private readonly rng: Rng,
  ) {
    this.dialectDrift = rng.fork('dialect').chance(faults.dialectDriftRate);
  }

  /** Any per-transfer fault switched on (the driver skips looking at publishes otherwise). */
  get sendFaultsOn(): boolean {
    const f = this.faults;
    return f.doubleSendRate > 0 || f.interleavedSendRate > 0 || f.duplicateMetadataRate > 0 || f.corruptMessageRate > 0;
  }

  /**
   * The faults of wake `wake` (1-based). Call once per wake, in order: the outage spans consecutive wakes.
   * Each wake draws from its own stream in a fixed order, so the decisions of wake n depend only on the seed, n and
   * whether an outage is running.
   */
  planWake(wake: number): WakeFaults {
    if (!Number.isInteger(wake) || wake <= this.lastWake) {
      throw new RangeError(
        `device nemesis: wakes must be planned in increasing order, got ${wake} after ${this.lastWake}`,
      );
    }
    this.lastWake = wake;
    const f = this.faults;
    const r = this.rng.fork(`wake:${wake}`);
    const counterReset = r.chance(f.counterResetRate);
    const badClock = r.chance(f.badClockRate);
    const outageDraw = r.chance(f.wifiOutageRate);
    const reboot = r.chance(f.rebootRate);
    const rebootFraction = r.next();
    let wifiOutage = false;
    let wifiOutageStarts = 0;
    const outageWakes = Math.max(0, Math.floor(f.wifiOutageWakes));
    if (this.outageWakesLeft > 0) {
      wifiOutage = true;
      this.outageWakesLeft -= 1;
    } else if (this.healWakeDue) {
      this.healWakeDue = false; // the wake after an outage has Wi-Fi
    } else if (outageDraw && outageWakes > 0) {
      wifiOutage = true;
      wifiOutageStarts = outageWakes;
      this.outageWakesLeft = outageWakes - 1;
    }
    if (wifiOutage && this.outageWakesLeft === 0) this.healWakeDue = true;
    return {
      wake,
      counterReset,
      badClock,
      wifiOutage,
      wifiOutageStarts,
      // A wake without Wi-Fi has no transfer to interrupt.
      rebootAtFraction: reboot && !wifiOutage ? rebootFraction : null,
    };
  }

  /** Per capture (captureSeq, unique per device): does power loss tear its SD-queue write? */
  tornWrite(captureSeq: number): boolean {
    return this.rng.fork(`capture:${captureSeq}`).chance(this.faults.tornWriteRate);
  }

  /** Per image transfer the firmware starts (the device's n-th, 0-based): how it goes out on the wire. */
  sendFaults(sendIndex: number): SendFaults {
    const f = this.faults;
    const r = this.rng.fork(`send:${sendIndex}`);
    const double = r.chance(f.doubleSendRate);
    const interleaved = r.chance(f.interleavedSendRate);
    const duplicateMetadata = r.chance(f.duplicateMetadataRate);
    const mode = double ? 'double' : interleaved ? 'interleaved' : 'once';
    // Drawn after the others, so adding this fault shifted none of their decisions.
    if (!r.chance(f.corruptMessageRate)) return { mode, duplicateMetadata };
    return { mode, duplicateMetadata, corrupt: r.pick(corruptKinds) };
  }
}

/**
 * The wire order of a transfer under `faults`, as indices into the firmware's own order (0 = the metadata,
 * 1..n = chunks 0..n-1). double: the transfer twice; interleaved: metadata, first half, metadata, every chunk,
 * second half; duplicate metadata: each metadata publish doubled.
 */
export function transferOrder(chunkCount: number, faults: SendFaults): number[] {
  const n = Math.max(0, Math.floor(chunkCount));
  const chunks = (from: number, to: number): number[] => {
    const out: number[] = [];
    for (let i = from; i < to; i++) out.push(i + 1);
    return out;
  };
  const meta = faults.duplicateMetadata ? [0, 0] : [0];
  switch (faults.mode) {
    case 'once':
      return [...meta, ...chunks(0, n)];
    case 'double':
      return [...meta, ...chunks(0, n), ...meta, ...chunks(0, n)];
    case 'interleaved': {
      const half = Math.ceil(n / 2);
      return [...meta, ...chunks(0, half), ...meta, ...chunks(0, n), ...chunks(half, n)];
    }
  }
}
