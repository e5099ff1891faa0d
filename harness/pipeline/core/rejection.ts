// Refused input (PROTOCOL.md §3 rejections): which decode failures are not device input at all, and the record of a
// refusal as rejected_messages stores it. Nothing a device sends is dropped unrecorded.
import { parseTopic, type RejectCode } from '../../../simulator/protocol/index.ts';
import type { CountedRejections } from './rejection-limit.ts';

/** Pipeline-side rejection codes beyond the codec's (RejectCode). */
export type PipelineRejectCode = RejectCode | 'name_reuse_exhausted' | 'internal_error' | 'unique_violation';

/** Under a wide subscription (`ESP32CAM/#`) the pipeline's own replies (/cmd, /ack) come back: not device input, so
 *  not a rejection either. */
export function isOwnReply(decodeErrorCode: RejectCode, topic: string): boolean {
  if (decodeErrorCode !== 'unknown_topic') return false;
  const t = parseTopic(topic);
  return t.ok && (t.value.channel === 'cmd' || t.value.channel === 'ack');
}

/** The device a topic names, when it names one. */
export function macOfTopic(topic: string): string | null {
  const t = parseTopic(topic);
  return t.ok ? t.value.deviceId : null;
}

/** A rejected_messages row (store/rejections.ts). */
export interface RejectionRecord {
  readonly topic: string;
  readonly deviceMac: string | null;
  readonly code: string;
  readonly reason: string;
  readonly payloadBytes: number;
  readonly payloadExcerpt: string;
  /** How many refusals the row stands for: 1, or the count of a device's refusals past the cap (rejection-limit.ts). */
  readonly messages: number;
}

const EXCERPT_CHARS = 200;

export function rejectionRecord(
  topic: string,
  payload: Buffer,
  mac: string | null,
  code: PipelineRejectCode,
  reason: string,
): RejectionRecord {
  return {
    topic: noNul(topic),
    deviceMac: mac,
    code,
    reason: noNul(reason),
    payloadBytes: payload.byteLength,
    payloadExcerpt: excerpt(payload),
    messages: 1,
  };
}

/** The first characters of a payload as text (invalid UTF-8 replaced, NUL dropped: Postgres text refuses it). */
function excerpt(payload: Buffer): string {
  return noNul(
    payload
      .subarray(0, EXCERPT_CHARS * 4)
      .toString('utf8')
      .slice(0, EXCERPT_CHARS),
  );
}

function noNul(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
}

/** The row standing for refusals a device sent past the cap of rows per minute (rejection-limit.ts). */
export function countedRejectionRecord(counted: CountedRejections, rowsPerDeviceMinute: number): RejectionRecord {
  const minute = new Date(counted.windowStartMs).toISOString().slice(0, 16).replace('T', ' ');
  return {
    topic: noNul(counted.topic),
    deviceMac: counted.deviceMac,
    code: counted.code,
    reason: noNul(
      `${counted.messages} more refusals (${counted.code}) in the minute from ${minute} UTC, past the cap of ${rowsPerDeviceMinute} rows per device per minute: counted in this row`,
    ),
    payloadBytes: 0,
    payloadExcerpt: '',
    messages: counted.messages,
  };
}
