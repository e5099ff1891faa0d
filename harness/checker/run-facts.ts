// What the history says happened, derived once and purely (no I/O) for every invariant: captures, what devices
// sent, dequeued and ended with, what the harness observed of ACKs, what the pipeline reported, and which metadata
// sends re-announced an image already settled. Events are taken in `seq` order (the history's total order,
// ARCHITECTURE.md §6), whatever order the array holds them in. MACs are normalised (PROTOCOL.md §1).
import type { CaptureRecord, HistoryEvent } from '../history/events.ts';
import { normalizeMac } from './db.ts';

export interface CaptureFact extends CaptureRecord {
  readonly seq: number;
}

/** A device-side event about one image: a metadata send or a dequeue. */
export interface ImageEventFact {
  readonly mac: string;
  readonly imageName: string;
  readonly sha256: string;
  readonly seq: number;
}

export interface AckFact extends ImageEventFact {
  readonly storedComplete: boolean;
}

export interface FinalQueueFact {
  readonly mac: string;
  readonly queued: readonly string[];
  readonly seq: number;
}

export type PipelineStepFact =
  | {
      readonly kind: 'committed';
      readonly mac: string;
      readonly imageName: string;
      readonly imageId: string;
      readonly seq: number;
    }
  | { readonly kind: 'acked'; readonly mac: string; readonly imageName: string; readonly seq: number };

/**
 * A device announced (sent metadata for) an image it had already settled: one it had dequeued, or whose ACK_OK the
 * harness observed while the image was complete (I6).
 */
export interface ReannouncementFact {
  readonly mac: string;
  readonly imageName: string;
  readonly sha256: string;
  /** How many metadata sends came after the image was settled. */
  readonly sends: number;
  readonly firstSeq: number;
  /** The first event that settled the image, and its seq. */
  readonly settledBy: 'device_dequeued' | 'ack_observed';
  readonly settledSeq: number;
}

/** The pipeline's own report that it logged a re-sent image as a duplicate (pipeline_duplicate_logged). */
export interface DuplicateLogClaimFact {
  readonly mac: string;
  readonly imageName: string;
  /** The re-sent capture's timestamp, when the pipeline reported it. */
  readonly captureTimestamp: string | undefined;
  readonly seq: number;
}

/**
 * Faults after which one device message can reach the pipeline more than once (a duplicated delivery, a QoS 1
 * redelivery after a broker or pipeline restart or a cut session, a second pipeline instance): then one
 * re-announcement may legitimately leave more than one duplicate_images_log row (I6).
 */
export const DELIVERY_MULTIPLYING_FAULTS: ReadonlySet<string> = new Set([
  'duplicate',
  'broker_restart',
  'pipeline_restart',
  'disconnect',
  'kill_db_connections',
  'two_instances',
]);

/** A malformed message a device published (device_sent_malformed), owed a rejected_messages row (I9). */
export interface MalformedSendFact {
  readonly mac: string;
  readonly topic: string;
  readonly kind: string;
  readonly expectedCode: string;
  readonly seq: number;
}

/** A fault the nemesis injected, as its `nemesis` event says. */
export interface FaultFact {
  readonly fault: string;
  readonly target: string | undefined;
  readonly detail: string | undefined;
  readonly seq: number;
  /** A scheduled fault's `fault_done` (its injection lasted until then); undefined: instantaneous or unknown. */
  readonly endSeq?: number;
}

export interface RunFacts {
  /** Every device named by a device-side event, normalised. */
  readonly macs: readonly string[];
  readonly captures: readonly CaptureFact[];
  /** Captures the device itself lost (torn SD write): may be absent, never partial (ARCHITECTURE.md §3). */
  readonly lostCaptures: readonly ImageEventFact[];
  readonly metadataSends: readonly ImageEventFact[];
  readonly dequeued: readonly ImageEventFact[];
  readonly acks: readonly AckFact[];
  /** The last device_final of each device that has one; empty when the run never reached its end. */
  readonly finalQueues: readonly FinalQueueFact[];
  /** pipeline_committed and pipeline_acked, in seq order. */
  readonly pipelineSteps: readonly PipelineStepFact[];
  readonly reannouncements: readonly ReannouncementFact[];
  readonly duplicateLogClaims: readonly DuplicateLogClaimFact[];
  /** Pipeline client ids seen connecting at the embedded broker (more than one at once: two instances). */
  readonly pipelineClientIds: readonly string[];
  /** The DELIVERY_MULTIPLYING_FAULTS the nemesis injected, distinct, in order of first injection. */
  readonly multiplyingFaults: readonly string[];
  readonly malformedSends: readonly MalformedSendFact[];
  /** Every nemesis event, in seq order. */
  readonly faults: readonly FaultFact[];
}

/** The reference pipeline's MQTT client ids start with this (harness/pipeline/options.ts). */
const PIPELINE_CLIENT_ID_PREFIX = 'camfleet-pipeline';

/** `mac|sha256`: one capture of one device. */
export function imageKey(mac: string, sha256: string): string {
  return `${mac}|${sha256}`;
}

export function runFacts(history: readonly HistoryEvent[]): RunFacts {
  const events = [...history].sort((a, b) => a.seq - b.seq);
  const macs = new Set<string>();
  const captures: CaptureFact[] = [];
  const lostCaptures: ImageEventFact[] = [];
  const metadataSends: ImageEventFact[] = [];
  const dequeued: ImageEventFact[] = [];
  const acks: AckFact[] = [];
  const finals = new Map<string, FinalQueueFact>();
  const pipelineSteps: PipelineStepFact[] = [];
  /** First settling event per image. */
  const settled = new Map<string, { by: ReannouncementFact['settledBy']; seq: number }>();
  const reannounced = new Map<string, ReannouncementFact>();
  const duplicateLogClaims: DuplicateLogClaimFact[] = [];
  const pipelineClientIds = new Set<string>();
  const multiplyingFaults = new Set<string>();
  const malformedSends: MalformedSendFact[] = [];
  const faults: FaultFact[] = [];
  let lastFired: { readonly planId: number; readonly fault: string } | undefined;
  const openInjections = new Map<number, number>();

  const settle = (mac: string, sha256: string, by: ReannouncementFact['settledBy'], seq: number) => {
    const key = imageKey(mac, sha256);
    if (!settled.has(key)) settled.set(key, { by, seq });
  };

  for (const event of events) {
    const { seq } = event;
    switch (event.type) {
      case 'device_wake':
      case 'device_sleep':
      case 'device_gave_up':
        macs.add(normalizeMac(event.mac));
        break;
      case 'device_captured': {
        const mac = normalizeMac(event.capture.mac);
        macs.add(mac);
        captures.push({ ...event.capture, mac, seq });
        break;
      }
      case 'device_lost_capture': {
        const mac = normalizeMac(event.mac);
        macs.add(mac);
        lostCaptures.push({ mac, imageName: event.imageName, sha256: event.sha256, seq });
        break;
      }
      case 'device_sent_metadata': {
        const mac = normalizeMac(event.mac);
        macs.add(mac);
        metadataSends.push({ mac, imageName: event.imageName, sha256: event.sha256, seq });
        const key = imageKey(mac, event.sha256);
        const settledBy = settled.get(key);
        if (settledBy !== undefined) {
          const seen = reannounced.get(key);
          reannounced.set(
            key,
            seen !== undefined
              ? { ...seen, sends: seen.sends + 1 }
              : {
                  mac,
                  imageName: event.imageName,
                  sha256: event.sha256,
                  sends: 1,
                  firstSeq: seq,
                  settledBy: settledBy.by,
                  settledSeq: settledBy.seq,
                },
          );
        }
        break;
      }
      case 'device_dequeued': {
        const mac = normalizeMac(event.mac);
        macs.add(mac);
        dequeued.push({ mac, imageName: event.imageName, sha256: event.sha256, seq });
        settle(mac, event.sha256, 'device_dequeued', seq);
        break;
      }
      case 'ack_observed': {
        const mac = normalizeMac(event.mac);
        macs.add(mac);
        acks.push({ mac, imageName: event.imageName, sha256: event.sha256, storedComplete: event.storedComplete, seq });
        if (event.storedComplete) settle(mac, event.sha256, 'ack_observed', seq);
        break;
      }
      case 'device_final': {
        const mac = normalizeMac(event.mac);
        macs.add(mac);
        finals.set(mac, { mac, queued: [...(event.queued ?? [])], seq });
        break;
      }
      case 'pipeline_committed':
        pipelineSteps.push({
          kind: 'committed',
          mac: normalizeMac(event.mac),
          imageName: event.imageName,
          imageId: event.imageId,
          seq,
        });
        break;
      case 'pipeline_acked':
        // An ack of an image the pipeline found already complete follows someone's commit by construction (it read
        // the committed row); that commit's event may come from another instance, in any order. The device-side
        // ack_observed judges those acks. So are acks a restarted pipeline sends for a crashed one's commits (it read
        // them as owed, which the commit wrote).
        if (event.basis !== 'found_complete' && event.basis !== 'recovered')
          pipelineSteps.push({ kind: 'acked', mac: normalizeMac(event.mac), imageName: event.imageName, seq });
        break;
      case 'pipeline_duplicate_logged':
        duplicateLogClaims.push({
          mac: normalizeMac(event.mac),
          imageName: event.imageName,
          captureTimestamp: event.captureTimestamp,
          seq,
        });
        break;
      case 'broker_client':
        if (event.connected && event.clientId.startsWith(PIPELINE_CLIENT_ID_PREFIX))
          pipelineClientIds.add(event.clientId);
        break;
      case 'nemesis':
        if (DELIVERY_MULTIPLYING_FAULTS.has(event.fault)) multiplyingFaults.add(event.fault);
        faults.push({ fault: event.fault, target: event.target, detail: event.detail, seq });
        // The scheduler records `fault_fired` and then the injection appends this event at once.
        if (lastFired !== undefined && lastFired.fault === event.fault) {
          openInjections.set(lastFired.planId, faults.length - 1);
          lastFired = undefined;
        }
        break;
      case 'fault_fired':
        lastFired = { planId: event.planId, fault: event.fault };
        break;
      case 'fault_done': {
        const index = openInjections.get(event.planId);
        const fact = index === undefined ? undefined : faults[index];
        if (index !== undefined && fact !== undefined) faults[index] = { ...fact, endSeq: seq };
        break;
      }
      case 'device_sent_malformed': {
        const mac = normalizeMac(event.mac);
        macs.add(mac);
        malformedSends.push({ mac, topic: event.topic, kind: event.kind, expectedCode: event.expectedCode, seq });
        break;
      }
      default:
        break;
    }
  }

  return {
    macs: [...macs].sort(),
    captures,
    lostCaptures,
    metadataSends,
    dequeued,
    acks,
    finalQueues: [...finals.values()].sort((a, b) => a.seq - b.seq),
    pipelineSteps,
    reannouncements: [...reannounced.values()].sort((a, b) => a.firstSeq - b.firstSeq),
    duplicateLogClaims,
    pipelineClientIds: [...pipelineClientIds],
    multiplyingFaults: [...multiplyingFaults],
    malformedSends,
    faults,
  };
}

/** One entry per distinct (mac, sha256), the first occurrence kept. */
export function distinctImages<T extends { readonly mac: string; readonly sha256: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = imageKey(item.mac, item.sha256);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The capture of (mac, sha256), if the history recorded it. */
export function captureOf(facts: RunFacts, mac: string, sha256: string): CaptureFact | undefined {
  return facts.captures.find((c) => c.mac === mac && c.sha256 === sha256);
}
