// Server → device messages (PROTOCOL.md §4) on /cmd or /ack, as a device receives them. Pure; never throws.

import { bodyDeviceId, decodeChunkId, openEnvelope, withOptional } from './decode-device.ts';
import { checkImageName, get, type JsonObject } from './fields.ts';
import type { AckOk, Decoded, ServerMessage, Topic } from './messages.ts';
import { fail, guard, show } from './reject.ts';
import { parseWakeTime } from './wake-time.ts';

export interface ServerDecodeOptions {
  /** Wire base of the ids in `missing_chunks` (see DecodeOptions.chunkIdBase). Default 0. */
  readonly chunkIdBase?: 0 | 1;
  /** Default 64 KiB. */
  readonly maxPayloadBytes?: number;
  /** Largest acceptable chunk id + 1. Default 10,000. */
  readonly maxTotalChunks?: number;
}

export interface DecodedServerMessage {
  readonly topic: Topic;
  readonly message: ServerMessage;
}

/**
 * Decode a message a device received. Every command is accepted on either /cmd or /ack (the Jan 2026 service put
 * `missing_chunks` on /ack, the spec on /cmd). A `device_id` in the body (Jan 2026) must name the topic's device.
 * When several command keys appear, the first of ACK_OK, missing_chunks, send_image, send_all_pending,
 * capture_image, next_wake wins.
 */
export function decodeServerMessage(
  topic: string,
  payload: string | Uint8Array,
  opts: ServerDecodeOptions = {},
): Decoded<DecodedServerMessage> {
  const envelope = openEnvelope(topic, payload, ['cmd', 'ack'], 'device → server', opts.maxPayloadBytes);
  if (!envelope.ok) return envelope;
  const { topic: t, body } = envelope.value;
  return guard(() => {
    bodyDeviceId(body, t);
    return { topic: t, message: decodeCommand(body, opts) };
  });
}

function decodeCommand(body: JsonObject, opts: ServerDecodeOptions): ServerMessage {
  const ack = get(body, 'ACK_OK');
  if (ack !== undefined) return decodeAckOk(body, ack);

  const missing = get(body, 'missing_chunks');
  if (missing !== undefined) {
    const image_name = checkImageName('image_name', get(body, 'image_name'));
    if (!Array.isArray(missing)) fail('bad_field', `missing_chunks ${show(missing)} is not an array`);
    const ids = missing.map((id: unknown, i) => decodeChunkId(`missing_chunks[${i}]`, id, opts));
    return { kind: 'missing_chunks', image_name, missing_chunks: ids };
  }

  const sendImage = get(body, 'send_image');
  if (sendImage !== undefined) return { kind: 'send_image', image_name: checkImageName('send_image', sendImage) };

  if (flag(body, 'send_all_pending')) return { kind: 'send_all_pending' };
  if (flag(body, 'capture_image')) return { kind: 'capture_image' };

  const nextWake = get(body, 'next_wake');
  if (nextWake !== undefined) return { kind: 'next_wake', next_wake: wakeTime('next_wake', nextWake) };

  return fail('unclassifiable', `no known command in server message (keys: ${show(Object.keys(body))})`);
}

/** A command flag: absent → false; must be `true` when present. */
function flag(body: JsonObject, key: string): boolean {
  const v = get(body, key);
  if (v === undefined) return false;
  if (v !== true) fail('bad_field', `${key} ${show(v)} is not true`);
  return true;
}

function decodeAckOk(body: JsonObject, ack: unknown): AckOk {
  const rawName = get(body, 'image_name');
  const image_name = rawName === undefined ? undefined : checkImageName('image_name', rawName);
  const rawTimestamp = get(body, 'timestamp');
  if (rawTimestamp !== undefined && (typeof rawTimestamp !== 'string' || rawTimestamp === ''))
    fail('bad_field', `timestamp ${show(rawTimestamp)} is not a capture timestamp`);
  const timestamp = rawTimestamp;
  const rawSize = get(body, 'image_size');
  if (rawSize !== undefined && (typeof rawSize !== 'number' || !Number.isSafeInteger(rawSize) || rawSize <= 0))
    fail('bad_field', `image_size ${show(rawSize)} is not an image size`);
  const image_size = rawSize;
  if (ack === true) return withOptional({ kind: 'ack_ok' as const }, { image_name, timestamp, image_size });
  if (typeof ack !== 'object' || ack === null || Array.isArray(ack)) {
    fail('bad_field', `ACK_OK ${show(ack)} is neither true nor {"next_wake_time":…}`);
  }
  const raw = get(ack as JsonObject, 'next_wake_time');
  const next_wake_time = raw === undefined ? undefined : wakeTime('ACK_OK.next_wake_time', raw);
  return withOptional({ kind: 'ack_ok' as const }, { image_name, next_wake_time, timestamp, image_size });
}

function wakeTime(what: string, raw: unknown): string {
  if (typeof raw !== 'string' || parseWakeTime(raw) === null) {
    fail('bad_field', `${what} ${show(raw)} is not a wake time H:MMAM|PM`);
  }
  return raw;
}
