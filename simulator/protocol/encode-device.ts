// Device → server messages onto the wire, in either dialect (PROTOCOL.md §3). Pure. The encoder trusts its typed
// input (it does not re-validate); `decodeDeviceMessage` of its output gives the message back.

import { encodeBase64 } from './chunk-payload.ts';
import { escapeSmartQuotes } from './json.ts';
import type { Chunk, DeviceMessage, Dialect, Hello, Metadata, SensorData, Telemetry } from './messages.ts';
import { topicFor } from './topics.ts';

export interface EncodeOptions {
  /** The chunk-id base on the wire (see DecodeOptions.chunkIdBase). Default 0. */
  readonly chunkIdBase?: 0 | 1;
}

export interface WireMessage {
  readonly topic: string;
  readonly payload: string;
}

/** JSON text whose curly quotes are escaped, so the smart-quote repair on the receiving side cannot alter them. */
function json(value: unknown): string {
  return escapeSmartQuotes(JSON.stringify(value));
}

/**
 * fw350: `timestamp`, `max_chunks_size`, `total_chunk_count`, nested `sensor_data`, `pendingImg`, `status:"Alive"`
 * on `ESP32CAM/<MAC>/…`. spec: `capture_timestamp`, `max_chunk_size`, `total_chunks_count`, flat sensors,
 * `pending_count`, `status:"alive"` on `device/<id>/…`. Chunks and telemetry are spelt the same in both.
 */
export function encodeDeviceMessage(msg: DeviceMessage, dialect: Dialect, opts: EncodeOptions = {}): WireMessage {
  switch (msg.kind) {
    case 'chunk':
      return { topic: topicFor(msg.device_id, 'data', dialect), payload: encodeChunk(msg, opts.chunkIdBase ?? 0) };
    case 'metadata':
      return { topic: topicFor(msg.device_id, 'data', dialect), payload: encodeMetadata(msg, dialect) };
    case 'telemetry':
      return { topic: topicFor(msg.device_id, 'data', dialect), payload: encodeTelemetry(msg) };
    case 'hello':
      return { topic: topicFor(msg.device_id, 'status', dialect), payload: encodeHello(msg, dialect) };
  }
}

/** The hot path (tens of thousands per run): a template, no intermediate object. */
function encodeChunk(msg: Chunk, base: 0 | 1): string {
  const size = msg.max_chunk_size === undefined ? '' : `,"max_chunk_size":${msg.max_chunk_size}`;
  return (
    `{"device_id":${json(msg.device_id)},"image_name":${json(msg.image_name)},"chunk_id":${msg.chunk_id + base}` +
    `${size},"payload":"${encodeBase64(msg.payload)}"}`
  );
}

function encodeMetadata(msg: Metadata, dialect: Dialect): string {
  const fw = dialect === 'fw350';
  // Key order follows PROTOCOL.md §3; JSON.stringify drops the undefined (absent) optional fields.
  return json({
    device_id: msg.device_id,
    [fw ? 'timestamp' : 'capture_timestamp']: msg.timestamp,
    image_name: msg.image_name,
    image_id: msg.image_id,
    image_size: msg.image_size,
    [fw ? 'max_chunks_size' : 'max_chunk_size']: msg.max_chunk_size,
    [fw ? 'total_chunk_count' : 'total_chunks_count']: msg.total_chunk_count,
    location: msg.location,
    error: msg.error,
    ...(fw ? { sensor_data: msg.sensor_data } : flatSensors(msg.sensor_data)),
  });
}

/** The four sensor fields at top level (undefined ones are dropped by JSON.stringify). */
function flatSensors(s: SensorData | undefined): Record<string, number | undefined> {
  return s === undefined
    ? {}
    : { temperature: s.temperature, humidity: s.humidity, pressure: s.pressure, gas_resistance: s.gas_resistance };
}

/** Telemetry-only is flat in both dialects, as in the fixture `telemetry-only` (PROTOCOL.md §3). */
function encodeTelemetry(msg: Telemetry): string {
  return json({
    device_id: msg.device_id,
    captured_at: msg.captured_at,
    ...flatSensors(msg.sensor_data),
    battery_voltage: msg.battery_voltage,
    wifi_rssi: msg.wifi_rssi,
  });
}

/** `status` is written in the dialect's spelling when it is some case of "alive", verbatim otherwise. */
function encodeHello(msg: Hello, dialect: Dialect): string {
  const fw = dialect === 'fw350';
  const status = msg.status.toLowerCase() === 'alive' ? (fw ? 'Alive' : 'alive') : msg.status;
  return json({
    device_id: msg.device_id,
    status,
    [fw ? 'pendingImg' : 'pending_count']: msg.pendingImg,
    pending_list: msg.pending_list,
    firmware_version: msg.firmware_version,
    hardware_version: msg.hardware_version,
    battery_voltage: msg.battery_voltage,
    wifi_rssi: msg.wifi_rssi,
    device_mac: msg.device_mac,
  });
}
