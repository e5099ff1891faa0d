// Device → server messages (PROTOCOL.md §3), both dialects, onto the typed forms of messages.ts. Pure; never throws.

import { decodeChunkPayload } from './chunk-payload.ts';
import {
  get,
  has,
  hasClimateReading,
  optInt,
  optNumber,
  optString,
  reqImageName,
  reqInt,
  reqString,
  readSensors,
  checkImageName,
  type JsonObject,
} from './fields.ts';
import { parseJsonPayload } from './json.ts';
import { normaliseDeviceId } from './mac.ts';
import type { Channel, Chunk, Decoded, DeviceMessage, Hello, Metadata, Telemetry, Topic } from './messages.ts';
import { fail, guard, rejected, show } from './reject.ts';
import { parseTopic } from './topics.ts';

export interface DecodeOptions {
  /**
   * The chunk-id base on the wire: 0 (firmware v3.5.0 and the vendor's receiver) or 1 (the PDF). A per-deployment
   * setting, applied to both dialects; decoded ids are always 0-based. Default 0.
   */
  readonly chunkIdBase?: 0 | 1;
  /** Larger payloads are `payload_too_large` before parsing. Default 64 KiB. */
  readonly maxPayloadBytes?: number;
  /** Largest acceptable total chunk count (and so chunk id). Default 10,000. */
  readonly maxTotalChunks?: number;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
export const DEFAULT_MAX_TOTAL_CHUNKS = 10_000;

export interface DecodedDeviceMessage {
  readonly topic: Topic;
  readonly message: DeviceMessage;
}

// Field spellings: the fw350 name first, then the spec / older ones.
export const FIELD_ALIASES = {
  timestamp: ['timestamp', 'capture_timestamp', 'capture_timeStamp'],
  max_chunk_size: ['max_chunks_size', 'max_chunk_size'],
  total_chunk_count: ['total_chunk_count', 'total_chunks_count'],
  pendingImg: ['pendingImg', 'pending_count'],
} as const;

/**
 * Decode one message a device published. The topic decides the dialect and the device; /status is a HELLO; on /data
 * a `chunk_id` makes a chunk, else a total chunk count makes metadata, else a temperature or humidity makes
 * telemetry. Returns a Rejection (with a stable code and a reason naming the field and value) for anything else.
 */
export function decodeDeviceMessage(
  topic: string,
  payload: string | Uint8Array,
  opts: DecodeOptions = {},
): Decoded<DecodedDeviceMessage> {
  const envelope = openEnvelope(topic, payload, ['status', 'data'], 'server → device', opts.maxPayloadBytes);
  if (!envelope.ok) return envelope;
  const { topic: t, body } = envelope.value;
  const channel = t.channel;
  return guard(() => {
    const deviceId = bodyDeviceId(body, t);
    const message = channel === 'status' ? decodeHello(body, deviceId) : decodeData(body, deviceId, opts);
    return { topic: t, message };
  });
}

/**
 * What both directions check before reading a message: a known topic on one of `channels` (else `unknown_topic`:
 * that channel carries `otherDirection` messages), a payload within the size limit, and a JSON object.
 */
export function openEnvelope(
  topic: string,
  payload: string | Uint8Array,
  channels: readonly Channel[],
  otherDirection: string,
  maxPayloadBytes: number | undefined,
): Decoded<{ topic: Topic; body: JsonObject }> {
  const t = parseTopic(topic);
  if (!t.ok) return t;
  if (!channels.includes(t.value.channel)) {
    return rejected('unknown_topic', `topic ${show(topic)}: /${t.value.channel} carries ${otherDirection} messages`);
  }
  const tooLarge = checkPayloadSize(payload, maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  if (tooLarge !== undefined) return tooLarge;
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;
  return { ok: true, value: { topic: t.value, body: json.value } };
}

/** `payload_too_large` if the payload is over `max` UTF-8 bytes. */
export function checkPayloadSize(payload: string | Uint8Array, max: number): Decoded<never> | undefined {
  let bytes: number;
  if (typeof payload === 'string') {
    // A JS string of n UTF-16 units is at most 3n UTF-8 bytes: only count when that bound could exceed the limit.
    bytes = payload.length * 3 <= max ? 0 : Buffer.byteLength(payload, 'utf8');
  } else if (payload instanceof Uint8Array) {
    bytes = payload.byteLength;
  } else {
    return undefined; // parseJsonPayload rejects it
  }
  return bytes > max ? rejected('payload_too_large', `payload of ${bytes} bytes exceeds ${max} bytes`) : undefined;
}

/** The body's device_id, normalised, must name the topic's device; without one the topic's id is used. */
export function bodyDeviceId(body: JsonObject, topic: Topic): string {
  const raw = get(body, 'device_id');
  if (raw === undefined) return topic.deviceId;
  if (typeof raw !== 'string') fail('bad_device_id', `device_id ${show(raw)} is not a string`);
  const id = normaliseDeviceId(raw);
  if (id === null) fail('bad_device_id', `device_id ${show(raw)} is not 12 hex digits`);
  if (id !== topic.deviceId) {
    fail('device_id_mismatch', `device_id ${show(raw)} in the body is not ${show(topic.deviceId)} of the topic`);
  }
  return id;
}

function decodeHello(body: JsonObject, device_id: string): Hello {
  const status = optString(body, ['status']);
  if (status === undefined) fail('missing_field', 'missing field status');
  const pendingImg = reqInt(body, FIELD_ALIASES.pendingImg, 0);
  const rawList = get(body, 'pending_list');
  let pending_list: string[] = [];
  if (rawList !== undefined) {
    if (!Array.isArray(rawList)) fail('bad_field', `pending_list ${show(rawList)} is not an array`);
    pending_list = rawList.map((name: unknown, i) => checkImageName(`pending_list[${i}]`, name));
  }
  return withOptional(
    { kind: 'hello', device_id, status, pendingImg, pending_list },
    {
      firmware_version: optString(body, ['firmware_version']),
      hardware_version: optString(body, ['hardware_version']),
      battery_voltage: optNumber(body, ['battery_voltage']),
      wifi_rssi: optNumber(body, ['wifi_rssi']),
      device_mac: optString(body, ['device_mac']),
    },
  );
}

function decodeData(body: JsonObject, device_id: string, opts: DecodeOptions): DeviceMessage {
  if (has(body, 'chunk_id')) return decodeChunk(body, device_id, opts);
  if (has(body, 'total_chunk_count') || has(body, 'total_chunks_count')) return decodeMetadata(body, device_id, opts);
  if (hasClimateReading(body)) return decodeTelemetry(body, device_id);
  return fail(
    'unclassifiable',
    `data message has no chunk_id, no total_chunk_count/total_chunks_count and no temperature/humidity (keys: ${show(Object.keys(body))})`,
  );
}

function decodeMetadata(body: JsonObject, device_id: string, opts: DecodeOptions): Metadata {
  const maxTotal = opts.maxTotalChunks ?? DEFAULT_MAX_TOTAL_CHUNKS;
  const image_name = reqImageName(body);
  const timestamp = reqString(body, FIELD_ALIASES.timestamp);
  const [totalKey, total_chunk_count] = totalChunkCount(body, maxTotal);
  const image_size = reqInt(body, ['image_size'], 1);
  const sizeKey = FIELD_ALIASES.max_chunk_size.find((k) => has(body, k)) ?? 'max_chunk_size';
  const max_chunk_size = reqInt(body, FIELD_ALIASES.max_chunk_size, 1);
  const expected = Math.ceil(image_size / max_chunk_size);
  if (expected !== total_chunk_count) {
    fail(
      'size_chunks_mismatch',
      `${totalKey} ${total_chunk_count} is not ceil(image_size ${image_size} / ${sizeKey} ${max_chunk_size}) = ${expected}`,
    );
  }
  return withOptional(
    { kind: 'metadata', device_id, timestamp, image_name, image_size, max_chunk_size, total_chunk_count },
    {
      image_id: optInt(body, ['image_id'], 0),
      location: optString(body, ['location']),
      error: optInt(body, ['error'], Number.MIN_SAFE_INTEGER),
      sensor_data: readSensors(body),
    },
  );
}

function totalChunkCount(body: JsonObject, maxTotal: number): [key: string, value: number] {
  const [key, value] = has(body, 'total_chunk_count')
    ? ['total_chunk_count', get(body, 'total_chunk_count')]
    : ['total_chunks_count', get(body, 'total_chunks_count')];
  if (typeof value !== 'number') fail('bad_field', `${key} ${show(value)} is not a number`);
  if (!Number.isSafeInteger(value) || value < 1 || value > maxTotal) {
    fail('total_chunks_absurd', `${key} ${show(value)} is not an integer in 1..${maxTotal}`);
  }
  // Both spellings present must agree.
  const other = get(body, key === 'total_chunk_count' ? 'total_chunks_count' : 'total_chunk_count');
  if (other !== undefined && other !== value) {
    fail('bad_field', `total_chunk_count and total_chunks_count disagree (${show(value)} vs ${show(other)})`);
  }
  return [key, value];
}

function decodeChunk(body: JsonObject, device_id: string, opts: DecodeOptions): Chunk {
  const image_name = reqImageName(body);
  const chunk_id = decodeChunkId('chunk_id', get(body, 'chunk_id'), opts);
  const max_chunk_size = optInt(body, [...FIELD_ALIASES.max_chunk_size].reverse(), 1);
  const rawPayload = get(body, 'payload');
  if (rawPayload === undefined) fail('missing_field', 'missing field payload');
  const bytes = decodeChunkPayload(rawPayload);
  if (!bytes.ok) fail(bytes.error.code, bytes.error.reason);
  const payload = bytes.value;
  if (max_chunk_size !== undefined && payload.byteLength > max_chunk_size) {
    fail('bad_field', `payload of ${payload.byteLength} bytes exceeds max_chunk_size ${max_chunk_size}`);
  }
  return withOptional({ kind: 'chunk', device_id, image_name, chunk_id, payload }, { max_chunk_size });
}

/** A wire chunk id → 0-based: an integer, at least the base, below the maximum total chunk count. */
export function decodeChunkId(what: string, raw: unknown, opts: DecodeOptions): number {
  const base = opts.chunkIdBase ?? 0;
  const maxTotal = opts.maxTotalChunks ?? DEFAULT_MAX_TOTAL_CHUNKS;
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw))
    fail('bad_field', `${what} ${show(raw)} is not an integer`);
  const id = raw - base;
  if (id < 0 || id >= maxTotal) {
    fail(
      'chunk_id_out_of_range',
      `${what} ${raw} is outside ${base}..${maxTotal - 1 + base} (chunk ids are ${base}-based in this deployment)`,
    );
  }
  return id;
}

function decodeTelemetry(body: JsonObject, device_id: string): Telemetry {
  const sensor_data = readSensors(body) ?? {};
  return withOptional(
    { kind: 'telemetry', device_id, sensor_data },
    {
      captured_at: optString(body, ['captured_at']),
      battery_voltage: optNumber(body, ['battery_voltage']),
      wifi_rssi: optNumber(body, ['wifi_rssi']),
    },
  );
}

type Present<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** `base` plus the fields of `extra` that are not undefined (exactOptionalPropertyTypes: absent, not undefined). */
export function withOptional<B extends object, E extends object>(base: B, extra: E): B & Present<E> {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out as B & Present<E>;
}
