// Typed messages of the device protocol (shared/docs/PROTOCOL.md §2–4). These are the *decoded* forms: the
// codec (index.ts: decode-*.ts / encode-*.ts) maps both wire dialects onto them and back. Field names follow the
// firmware v3.5.0 wire names where they exist so a reader can match them to PROTOCOL.md.

/** Which spelling of the protocol a message uses (PROTOCOL.md §2–3). */
export type Dialect = 'fw350' | 'spec';

/** The four channels of a device (PROTOCOL.md §2). */
export type Channel = 'status' | 'data' | 'cmd' | 'ack';

export interface Topic {
  readonly dialect: Dialect;
  /** Normalised MAC (12 upper-case hex digits) or a kept-as-is test id (`TEST-…`, `SYSTEM:…`, `VIRTUAL:…`). */
  readonly deviceId: string;
  readonly channel: Channel;
}

export interface SensorData {
  readonly temperature?: number; // °C on the wire
  readonly humidity?: number;
  readonly pressure?: number;
  readonly gas_resistance?: number;
}

/** HELLO on /status. `pendingImg` is `pending_count` in the spec dialect; `pending_list` is capped at 10. */
export interface Hello {
  readonly kind: 'hello';
  readonly device_id: string;
  readonly status: string; // "Alive" (fw350) or "alive" (spec)
  readonly pendingImg: number;
  readonly pending_list: readonly string[];
  readonly firmware_version?: string;
  readonly hardware_version?: string;
  readonly battery_voltage?: number;
  readonly wifi_rssi?: number;
  readonly device_mac?: string;
}

/** Image metadata on /data, sent once per transfer before its chunks. */
export interface Metadata {
  readonly kind: 'metadata';
  readonly device_id: string;
  /** The device's capture time exactly as sent (may be unpadded or from 1970). */
  readonly timestamp: string;
  readonly image_name: string;
  readonly image_id?: number;
  readonly image_size: number;
  readonly max_chunk_size: number;
  readonly total_chunk_count: number;
  readonly location?: string;
  readonly error?: number;
  readonly sensor_data?: SensorData;
}

/** One chunk on /data. `chunk_id` is always 0-based here; the codec converts the spec's 1-based ids. */
export interface Chunk {
  readonly kind: 'chunk';
  readonly device_id: string;
  readonly image_name: string;
  readonly chunk_id: number;
  readonly max_chunk_size?: number;
  readonly payload: Uint8Array;
}

/** Telemetry-only on /data: sensor readings without an image. */
export interface Telemetry {
  readonly kind: 'telemetry';
  readonly device_id: string;
  readonly captured_at?: string;
  readonly sensor_data: SensorData;
  readonly battery_voltage?: number;
  readonly wifi_rssi?: number;
}

export type DeviceMessage = Hello | Metadata | Chunk | Telemetry;

/** Server → device (PROTOCOL.md §4). */
export interface CaptureImage {
  readonly kind: 'capture_image';
}
export interface SendImage {
  readonly kind: 'send_image';
  readonly image_name: string;
}
export interface SendAllPending {
  readonly kind: 'send_all_pending';
}
/** Re-send only these (0-based) chunks. Arrives on /ack (Jan 2026 service) or /cmd (spec). */
export interface MissingChunks {
  readonly kind: 'missing_chunks';
  readonly image_name: string;
  readonly missing_chunks: readonly number[];
}
/**
 * ACK_OK: either `{"image_name":…,"ACK_OK":{"next_wake_time":"3:00PM"}}` (stored; sleep at that UTC time),
 * `{"ACK_OK":{"next_wake_time":…}}` (sleep only) or `{"ACK_OK":true,"image_name":…}` (per-image while draining).
 */
export interface AckOk {
  readonly kind: 'ack_ok';
  readonly image_name?: string;
  /** `H:MMAM|PM` in UTC, absent for the `ACK_OK: true` form. */
  readonly next_wake_time?: string;
  /**
   * Not in v3.5.0 — camfleet's opt-in protocol option "ACK names the capture" (`--ack-names-capture`): the
   * acknowledged capture's `timestamp` and `image_size` exactly as its metadata gave them, what the server tells a
   * re-send from a new capture by too. After a counter reset two queued captures can share a name (and, on a clock
   * that reads 1970, a timestamp); with these fields a device dequeues only the one they name (README, "A hazard
   * of firmware v3.5.0").
   */
  readonly timestamp?: string;
  readonly image_size?: number;
}
export interface NextWake {
  readonly kind: 'next_wake';
  readonly next_wake: string; // `H:MMAM|PM` UTC
}

export type ServerMessage = CaptureImage | SendImage | SendAllPending | MissingChunks | AckOk | NextWake;

/** A reason a message was rejected; stable codes so rejections can be counted and tested. */
export type RejectCode =
  | 'unknown_topic'
  | 'bad_device_id'
  | 'device_id_mismatch'
  | 'not_json'
  | 'not_object'
  | 'unclassifiable'
  | 'missing_field'
  | 'bad_field'
  | 'bad_image_name'
  | 'bad_base64'
  | 'chunk_id_out_of_range'
  | 'total_chunks_absurd'
  | 'size_chunks_mismatch'
  | 'payload_too_large'
  | 'total_chunks_changed'
  | 'chunk_before_metadata';

export interface Rejection {
  readonly code: RejectCode;
  readonly reason: string; // human-readable, names the field and the value
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Rejection };
