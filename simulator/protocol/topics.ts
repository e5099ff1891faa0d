// MQTT topics of both dialects (PROTOCOL.md §2): `ESP32CAM/<MAC>/<channel>` (fw350) and `device/<id>/<channel>`
// (spec).

import { normaliseDeviceId } from './mac.ts';
import type { Channel, Decoded, Dialect, Topic } from './messages.ts';
import { ok, rejected, show } from './reject.ts';

export const DIALECTS = ['fw350', 'spec'] as const satisfies readonly Dialect[];
export const CHANNELS = ['status', 'data', 'cmd', 'ack'] as const satisfies readonly Channel[];
/** Channels a device publishes on; the others carry server → device messages. */
export const DEVICE_CHANNELS = ['status', 'data'] as const satisfies readonly Channel[];
export const SERVER_CHANNELS = ['cmd', 'ack'] as const satisfies readonly Channel[];

const PREFIX: Readonly<Record<Dialect, string>> = { fw350: 'ESP32CAM', spec: 'device' };

function dialectOf(prefix: string): Dialect | undefined {
  if (prefix === PREFIX.fw350) return 'fw350';
  if (prefix === PREFIX.spec) return 'spec';
  return undefined;
}

function isChannel(s: string): s is Channel {
  return (CHANNELS as readonly string[]).includes(s);
}

/** Parse a topic; the device id is normalised (`unknown_topic` / `bad_device_id` otherwise). Never throws. */
export function parseTopic(topic: string): Decoded<Topic> {
  if (typeof topic !== 'string') return rejected('unknown_topic', `topic ${show(topic)} is not a string`);
  const parts = topic.split('/');
  const [prefix, rawId, channel] = parts;
  if (parts.length !== 3 || prefix === undefined || rawId === undefined || channel === undefined) {
    return rejected('unknown_topic', `topic ${show(topic)} is not <prefix>/<device id>/<channel>`);
  }
  const dialect = dialectOf(prefix);
  if (dialect === undefined) {
    return rejected('unknown_topic', `topic ${show(topic)}: prefix ${show(prefix)} is neither "ESP32CAM" nor "device"`);
  }
  if (!isChannel(channel)) {
    return rejected('unknown_topic', `topic ${show(topic)}: channel ${show(channel)} is not status|data|cmd|ack`);
  }
  const deviceId = normaliseDeviceId(rawId);
  if (deviceId === null) {
    return rejected('bad_device_id', `topic ${show(topic)}: device id ${show(rawId)} is not 12 hex digits`);
  }
  return ok({ dialect, deviceId, channel });
}

/** The wire topic. The id is used as given: pass a normalised one. */
export function formatTopic(t: Topic): string {
  return `${PREFIX[t.dialect]}/${t.deviceId}/${t.channel}`;
}

/** Shorthand for `formatTopic({ dialect, deviceId, channel })`. */
export function topicFor(deviceId: string, channel: Channel, dialect: Dialect): string {
  return `${PREFIX[dialect]}/${deviceId}/${channel}`;
}

/** What the ingestion server subscribes to: every device's status and data, for each dialect given. */
export function serverSubscriptions(dialects: readonly Dialect[] = DIALECTS): string[] {
  return dialects.flatMap((d) => DEVICE_CHANNELS.map((c) => `${PREFIX[d]}/+/${c}`));
}

/** The server's topics of these devices only (their status and data, each dialect): a pipeline serving one shard
 *  of a fleet. */
export function serverSubscriptionsFor(
  deviceIds: readonly string[],
  dialects: readonly Dialect[] = DIALECTS,
): string[] {
  return deviceIds.flatMap((id) => dialects.flatMap((d) => DEVICE_CHANNELS.map((c) => topicFor(id, c, d))));
}

/** What one device subscribes to: its own cmd and ack topics. */
export function deviceSubscriptions(deviceId: string, dialect: Dialect): string[] {
  return SERVER_CHANNELS.map((c) => topicFor(deviceId, c, dialect));
}
