// Server → device messages onto the wire (PROTOCOL.md §4). Pure.

import type { WireMessage } from './encode-device.ts';
import { escapeSmartQuotes } from './json.ts';
import type { AckOk, Channel, Dialect, ServerMessage } from './messages.ts';
import { topicFor } from './topics.ts';

export interface ServerEncodeOptions {
  /** Wire base of the ids in `missing_chunks`. Default 0. */
  readonly chunkIdBase?: 0 | 1;
  /** Put `device_id` in the body, as the Jan 2026 service did. Default false. */
  readonly includeDeviceId?: boolean;
}

/** The channel a server message goes out on: ACK_OK on /ack; missing_chunks on /ack (fw350) or /cmd (spec). */
export function serverChannel(msg: ServerMessage, dialect: Dialect): Channel {
  if (msg.kind === 'ack_ok') return 'ack';
  if (msg.kind === 'missing_chunks') return dialect === 'fw350' ? 'ack' : 'cmd';
  return 'cmd';
}

export function encodeServerMessage(
  deviceId: string,
  msg: ServerMessage,
  dialect: Dialect,
  opts: ServerEncodeOptions = {},
): WireMessage {
  const body = serverBody(msg, opts.chunkIdBase ?? 0);
  const withId = opts.includeDeviceId === true ? { device_id: deviceId, ...body } : body;
  return {
    topic: topicFor(deviceId, serverChannel(msg, dialect), dialect),
    payload: escapeSmartQuotes(JSON.stringify(withId)),
  };
}

function serverBody(msg: ServerMessage, base: 0 | 1): Record<string, unknown> {
  switch (msg.kind) {
    case 'capture_image':
      return { capture_image: true };
    case 'send_image':
      return { send_image: msg.image_name };
    case 'send_all_pending':
      return { send_all_pending: true };
    case 'missing_chunks':
      return { image_name: msg.image_name, missing_chunks: msg.missing_chunks.map((id) => id + base) };
    case 'next_wake':
      return { next_wake: msg.next_wake };
    case 'ack_ok':
      // `{"image_name":…,"ACK_OK":{"next_wake_time":…}}`, or `{"ACK_OK":true,"image_name":…}` with no wake time.
      // The capture's timestamp only when the opt-in "ACK names the capture" option put it there (messages.ts).
      return msg.next_wake_time === undefined
        ? { ACK_OK: true, image_name: msg.image_name, ...capture(msg) }
        : { image_name: msg.image_name, ...capture(msg), ACK_OK: { next_wake_time: msg.next_wake_time } };
  }
}

function capture(msg: AckOk): { timestamp?: string; image_size?: number } {
  return {
    ...(msg.timestamp === undefined ? {} : { timestamp: msg.timestamp }),
    ...(msg.image_size === undefined ? {} : { image_size: msg.image_size }),
  };
}
