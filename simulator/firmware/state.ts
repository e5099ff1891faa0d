// Device state, split the way the hardware splits it (PROTOCOL.md §1): what survives a reboot or deep sleep
// (flash counter, SD-card queue) and what does not (RAM). The core never mutates a state object: each step
// returns a new top-level object and shares every unchanged part (the SD queue array is only copied when an
// image is captured or dequeued).
import type { Dialect, SensorData } from '../protocol/messages.ts';
import { firmwareProfiles, isFirmwareProfile, type FirmwareProfile } from './profile.ts';

/** Immutable per-device configuration. Names carry units and limits (ARCHITECTURE.md §6). */
export interface FirmwareConfig {
  /** MAC, 12 upper-case hex digits (PROTOCOL.md §1); used as-is in every message. */
  readonly deviceId: string;
  readonly dialect: Dialect;
  /** Chunk payload size; 1024 in firmware v3.5.0 (PROTOCOL.md §3). */
  readonly chunkBytes: number;
  /** Mean drawn image size in KiB (sizes are mean ±30 %). */
  readonly imageKbMean: number;
  /** HELLO `pending_list` cap (PROTOCOL.md §3). */
  readonly pendingListMax: number;
  /** Re-sends after silence before giving up (PROTOCOL.md §4: "up to 3 times"). */
  readonly retryCountMax: number;
  /** Silence after an image transfer before it is re-sent. */
  readonly ackTimeoutMs: number;
  /** Silence after HELLO before HELLO is re-sent. */
  readonly helloTimeoutMs: number;
  /** Silence after all transfer work is done (no wake time given) before the device sleeps. */
  readonly idleTimeoutMs: number;
  /** Sleep length when the server gave no wake time (connect failed, gave up, idle). */
  readonly wakeIntervalMsDefault: number;
  /** From a power cycle (reboot) to the next MQTT connect: the ESP32 boots and joins Wi-Fi again. */
  readonly bootMs: number;
  readonly firmwareVersion: string;
  /** A wake whose connection fails still captures one image into the queue (PROTOCOL.md §1). */
  readonly captureWhenOffline: boolean;
  /** Optional metadata `location` (PROTOCOL.md §3). */
  readonly location?: string;
  /** Which firmware runs: the faithful v3.5.0 (`fw350`) or one with a device bug put back (profile.ts). */
  readonly profile: FirmwareProfile;
  /**
   * The opt-in protocol option "ACK names the capture" (not in v3.5.0): an ACK_OK that carries a `timestamp`
   * dequeues only the queued capture with that name AND that capture timestamp, so after a counter reset a repeated
   * ACK for an older capture cannot dequeue a newer one under the same name. An ACK without it is taken by name, as
   * v3.5.0 does (an old server). Default false: v3.5.0 ignores the field.
   */
  readonly ackNamesCapture: boolean;
}

export const FIRMWARE_CONFIG_DEFAULTS = {
  dialect: 'fw350',
  chunkBytes: 1024,
  imageKbMean: 70,
  pendingListMax: 10,
  retryCountMax: 3,
  ackTimeoutMs: 10_000,
  helloTimeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  wakeIntervalMsDefault: 12 * 60 * 60 * 1000, // about twice a day (PROTOCOL.md §1)
  // A floor, not a typical time: a cold boot to app_main takes a few hundred ms and a Wi-Fi join seconds (3 tries
  // of 8 s at worst, PROTOCOL.md §1). Without it a rebooted device would be back within the same instant of a
  // virtual clock, before the server had done anything with what it sent before the cut.
  bootMs: 1_000,
  firmwareVersion: '3.5.0',
  captureWhenOffline: true,
  profile: 'fw350',
  ackNamesCapture: false,
} as const satisfies Omit<FirmwareConfig, 'deviceId' | 'location'>;

export type FirmwareConfigOptions = Partial<FirmwareConfig> & { readonly deviceId: string };

/** Defaults filled in and validated; throws RangeError naming the bad option. */
export function makeFirmwareConfig(options: FirmwareConfigOptions): FirmwareConfig {
  const config: FirmwareConfig = { ...FIRMWARE_CONFIG_DEFAULTS, ...options };
  if (typeof config.deviceId !== 'string' || config.deviceId.length === 0) {
    throw new RangeError('firmware config: deviceId must be a non-empty string');
  }
  if (config.dialect !== 'fw350' && config.dialect !== 'spec') {
    throw new RangeError(`firmware config: dialect must be 'fw350' or 'spec', got ${String(config.dialect)}`);
  }
  if (!isFirmwareProfile(config.profile)) {
    throw new RangeError(
      `firmware config: profile must be one of ${firmwareProfiles.join(', ')}, got ${String(config.profile)}`,
    );
  }
  const positiveInts = [
    'chunkBytes',
    'pendingListMax',
    'ackTimeoutMs',
    'helloTimeoutMs',
    'idleTimeoutMs',
    'bootMs',
  ] as const;
  for (const key of [...positiveInts, 'wakeIntervalMsDefault'] as const) {
    const v = config[key];
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`firmware config: ${key} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(config.retryCountMax) || config.retryCountMax < 0) {
    throw new RangeError(`firmware config: retryCountMax must be an integer >= 0, got ${config.retryCountMax}`);
  }
  if (!Number.isFinite(config.imageKbMean) || config.imageKbMean <= 0) {
    throw new RangeError(`firmware config: imageKbMean must be a positive number, got ${config.imageKbMean}`);
  }
  return config;
}

/** One image on the SD card waiting for its ACK_OK (`pendingImage.txt` + the file + `metadata.txt`). */
export interface QueuedImage {
  /** `image_<N>.jpg`; not unique after a counter reset (PROTOCOL.md §1). */
  readonly name: string;
  /** N, the flash counter value used for the name (metadata `image_id`). */
  readonly imageId: number;
  /** Capture time exactly as sent in metadata `timestamp`. */
  readonly captureTimestamp: string;
  readonly capturedAtMs: number;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly bytes: Uint8Array;
  /** Simulation identity of this capture: unique per device for its whole life, never reset. */
  readonly captureSeq: number;
  /** Sensor readings taken at capture, re-sent unchanged with every transfer of this image. */
  readonly sensorData: SensorData;
  /**
   * fw-resend-new-bytes only (profile.ts): how many times this image's bytes were published so far (whole transfers
   * and missing_chunks answers) — the resend counter its regenerated bytes are seeded from. Absent: never published,
   * or a profile that does not count (v3.5.0 reads the SD card every time and keeps no such count).
   */
  readonly publications?: number;
}

/** Survives reboot and deep sleep. */
export interface PersistentState {
  /** NVS: the last N used in `image_<N>.jpg` (0 = none yet). */
  readonly flash: { readonly imageCounter: number };
  /** SD card: images not yet acknowledged, oldest first. Leaves only via ACK_OK. */
  readonly sd: { readonly queue: readonly QueuedImage[] };
  /**
   * Simulation bookkeeping, not device memory: the device's seed (forks image bytes), the next captureSeq and
   * the number of wakes so far (makes timer ids unique across reboots, so a stale timer is never mistaken).
   */
  readonly sim: { readonly seed: number; readonly captureSeqNext: number; readonly wakeSeq: number };
}

/** off: never woken; booting: power-cycled, back on the network after bootMs; connecting: `connect` emitted;
 *  online: MQTT session up; asleep: deep sleep. */
export type Phase = 'off' | 'booting' | 'connecting' | 'online' | 'asleep';

/** What the armed timer waits for: a reply to HELLO, an ACK for the in-flight image, more commands, or the end of
 *  a boot after a power cycle. */
export type WaitKind = 'hello' | 'ack' | 'idle' | 'boot';

export interface ArmedTimer {
  readonly kind: WaitKind;
  readonly timerId: string;
}

/** Lost on reboot and on deep sleep. */
export interface RamState {
  readonly phase: Phase;
  /** When asleep: when the device asked to be woken. */
  readonly sleepUntilMs: number | null;
  /** At most one timer is armed at a time. */
  readonly timer: ArmedTimer | null;
  /** Silence re-sends of the current HELLO or in-flight image. */
  readonly retryCount: number;
  /** captureSeq of the image sent and awaiting ACK_OK / missing_chunks. */
  readonly inFlight: number | null;
  /** send_all_pending in progress: captureSeqs still to send after the in-flight one, oldest first; else null. */
  readonly drain: readonly number[] | null;
  /** A wake time the server gave while transfer work remained; applied when the work is done. */
  readonly wakeAtMs: number | null;
  /** MQTT sessions established during this wake. */
  readonly sessionsThisWake: number;
  /** Reconnects after an unexpected `disconnected` during this wake. */
  readonly reconnectCount: number;
  /** Timers armed during this wake (timer id suffix). */
  readonly timerSeq: number;
}

export interface FirmwareState {
  readonly config: FirmwareConfig;
  readonly persistent: PersistentState;
  readonly ram: RamState;
}

export function freshRam(phase: Phase, sleepUntilMs: number | null = null): RamState {
  return {
    phase,
    sleepUntilMs,
    timer: null,
    retryCount: 0,
    inFlight: null,
    drain: null,
    wakeAtMs: null,
    sessionsThisWake: 0,
    reconnectCount: 0,
    timerSeq: 0,
  };
}

/** A device fresh from the factory: counter 0, empty SD card, powered off (deliver `wake` to start it). */
export function initialState(config: FirmwareConfig, seed: number): FirmwareState {
  return {
    config,
    persistent: {
      flash: { imageCounter: 0 },
      sd: { queue: [] },
      sim: { seed: seed >>> 0, captureSeqNext: 0, wakeSeq: 0 },
    },
    ram: freshRam('off'),
  };
}

/** Fault helper (ARCHITECTURE.md §4 "counter reset"): a reflash / lost NVS write sets the flash counter back. */
export function withImageCounter(state: FirmwareState, imageCounter: number): FirmwareState {
  return { ...state, persistent: { ...state.persistent, flash: { imageCounter } } };
}

/**
 * Fault helper (ARCHITECTURE.md §4 "power loss with a torn SD write"): the queue entry of capture `captureSeq` is
 * lost, as if the append to `pendingImage.txt` was cut by the power going. The flash counter and captureSeq are
 * kept (the NVS write happened); the same state object back if no such entry is queued.
 */
export function withoutQueuedCapture(state: FirmwareState, captureSeq: number): FirmwareState {
  const queue = state.persistent.sd.queue;
  if (!queue.some((image) => image.captureSeq === captureSeq)) return state;
  const kept = queue.filter((image) => image.captureSeq !== captureSeq);
  return { ...state, persistent: { ...state.persistent, sd: { queue: kept } } };
}

/** Names on the SD queue, oldest first (duplicates possible after a counter reset). */
export function queuedNames(state: FirmwareState): string[] {
  return state.persistent.sd.queue.map((image) => image.name);
}
