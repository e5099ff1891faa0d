// ACK_OK (PROTOCOL.md §1, §3; ARCHITECTURE.md §3 I7): why the pipeline may acknowledge an image, and what it says.
// The device dequeues an image only on ACK_OK, so every basis is a durable fact that the image is stored complete.
import { formatWakeTime, type Dialect, type ServerMessage } from '../../../simulator/protocol/index.ts';
import { storedDialect } from './facts.ts';
import type { ProfilePolicy } from './profile.ts';
import { defaultNextWakeMs } from './schedule.ts';

/**
 * Why the pipeline may acknowledge (I7; history `pipeline_acked.basis`):
 * - `own_commit`: this process's completing transaction made the row complete and has committed;
 * - `found_complete`: the row was found complete (a re-send of a stored image, or another writer completed it);
 * - `recovered`: a crashed instance committed the completion and recorded the ACK as owed, but never sent it.
 */
export type AckBasis = 'own_commit' | 'found_complete' | 'recovered';

/** Where an ACK_OK goes and what it names. */
export interface AckTarget {
  readonly mac: string;
  readonly dialect: Dialect;
  readonly wireName: string;
  readonly imageId: string;
  /** The capture's `timestamp` and size as its metadata gave them: named in the ACK_OK under the opt-in "ACK names
   *  the capture" option (simulator/protocol/messages.ts AckOk.timestamp, image_size). */
  readonly captureTimestamp: string;
  readonly imageSize: number;
}

/**
 * The ACK_OK itself: the wire name, and the wake time announced (`wakeMs`, or the default schedule from `nowMs`
 * when the caller has none — NaN, e.g. an owed ACK recorded without one). `namesCapture` (the opt-in protocol
 * option, off for v3.5.0 devices) adds the capture's timestamp, so a device dequeues only that capture.
 */
export function ackOkMessage(target: AckTarget, wakeMs: number, nowMs: number, namesCapture = false): ServerMessage {
  const at = Number.isFinite(wakeMs) ? wakeMs : defaultNextWakeMs(target.mac, nowMs);
  return {
    kind: 'ack_ok',
    image_name: target.wireName,
    next_wake_time: formatWakeTime(at),
    ...(namesCapture ? { timestamp: target.captureTimestamp, image_size: target.imageSize } : {}),
  };
}

/** What the completing transaction records as owed with the completion, for the profiles that record it. */
export function owedAckRecord(
  policy: ProfilePolicy,
  target: AckTarget,
): { readonly mac: string; readonly wireName: string; readonly dialect: string } | undefined {
  return policy.recordsOwedAcks ? { mac: target.mac, wireName: target.wireName, dialect: target.dialect } : undefined;
}

/** An owed ACK read back after a restart (store/acks-owed.ts) → where it goes and the wake time it announces. */
export function recoveredAck(row: {
  readonly imageId: string;
  readonly mac: string;
  readonly wireName: string;
  readonly dialect: string;
  readonly nextWakeAtMs: number | null;
  readonly captureTimestamp: string;
  readonly imageSize: number;
}): { readonly target: AckTarget; readonly wakeMs: number; readonly basis: 'recovered' } {
  return {
    target: {
      imageId: row.imageId,
      mac: row.mac,
      wireName: row.wireName,
      dialect: storedDialect(row.dialect, 'fw350'),
      captureTimestamp: row.captureTimestamp,
      imageSize: row.imageSize,
    },
    wakeMs: row.nextWakeAtMs ?? Number.NaN,
    basis: 'recovered',
  };
}

/** devices.next_wake_at for a wake time in ms; null when there is none (NaN, or out of Date's range). */
export function wakeAtIso(wakeMs: number): string | null {
  const d = new Date(wakeMs);
  return Number.isFinite(d.getTime()) ? d.toISOString() : null;
}
