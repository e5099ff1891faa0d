// A run's history as per-device swimlanes for report.html (html.ts draws them): spans (a device awake, a transfer
// from its first metadata to the ACK that dequeued it) and marks (chunk bursts, re-sends, resume requests, ACKs,
// faults) in ms from the run's first event, plus the fleet-wide faults and the fault plan. Pure: the history and
// the invariants in, plain JSON out. Columnar (flat number arrays, interned labels) so that 10,000 devices stay a
// few megabytes in the page.
import type { HistoryEvent } from '../history/events.ts';
import type { InvariantOutcome } from '../checker/expectation.ts';

/** Span kinds, in `spans` (the page colours them by index). */
export const spanKinds = ['awake', 'transfer', 'transfer-open'] as const;
/** Mark kinds, in `marks`. */
export const markKinds = [
  'captured',
  'metadata',
  'resend',
  'chunks',
  'chunks-resent',
  'resume-request',
  'ack',
  'ack-early',
  'dequeued',
  'duplicate-logged',
  'fault',
  'gave-up',
  'lost-capture',
  'malformed',
  'refused',
] as const;
export type SpanKind = (typeof spanKinds)[number];
export type MarkKind = (typeof markKinds)[number];

export interface FleetMark {
  readonly tMs: number;
  readonly kind: 'fault' | 'phase' | 'fault-missed';
  readonly label: string;
}

export interface PlannedFault {
  readonly fault: string;
  /** When the plan wanted it: its trigger (`3-receiving`, `40%`), or `point` for a logical fault point. */
  readonly when: string;
  readonly status: 'fired' | 'missed' | 'planned';
  readonly tMs: number | undefined;
  readonly detail: string;
}

export interface RunTimeline {
  readonly format: 'camfleet-timeline/1';
  /** Ms of the run's last event after its first (lanes are drawn from 0 to this). */
  readonly endMs: number;
  /** One lane per device, in the order the run first saw each. */
  readonly devices: readonly string[];
  /** Devices named by the offending rows of a failed invariant, with those invariants. */
  readonly failing: Readonly<Record<string, readonly string[]>>;
  /** Flat [lane, startMs, endMs, kind, label] quintuples (kind: index in spanKinds; label: index in labels). */
  readonly spans: readonly number[];
  /** Flat [lane, tMs, kind, label] quadruples (kind: index in markKinds). */
  readonly marks: readonly number[];
  readonly labels: readonly string[];
  readonly fleet: readonly FleetMark[];
  readonly plan: readonly PlannedFault[];
}

const MAC = /^[0-9A-F]{12}$/;

/** The device MACs an offending row names (a `mac` field, or any 12-hex-digit string in it, nested rows too). */
export function macsIn(row: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof row === 'string') {
    if (MAC.test(row)) found.add(row);
  } else if (Array.isArray(row)) {
    for (const item of row) macsIn(item, found);
  } else if (row !== null && typeof row === 'object') {
    for (const value of Object.values(row)) macsIn(value, found);
  }
  return found;
}

/** The first device MAC in a text such as a topic (`ESP32CAM/B8F862F9C1C4/data`), not inside a longer hex run. */
export function macInText(text: string): string | undefined {
  return /(?<![0-9A-Fa-f-])[0-9A-F]{12}(?![0-9A-Fa-f-])/.exec(text)?.[0];
}

/** Failing devices: those the offending rows of each failed invariant name. */
export function failingDevices(invariants: readonly Pick<InvariantOutcome, 'id' | 'actual' | 'offending'>[]) {
  const failing: Record<string, string[]> = {};
  for (const inv of invariants) {
    if (inv.actual !== 'fail') continue;
    for (const mac of macsIn(inv.offending)) (failing[mac] ??= []).push(inv.id);
  }
  return failing;
}

function chunkLabel(imageName: string, ids: readonly number[]): string {
  if (ids.length === 0) return imageName;
  const sorted = [...ids].sort((a, b) => a - b);
  const contiguous = sorted.every((id, i) => i === 0 || id === (sorted[i - 1] ?? 0) + 1);
  const range =
    contiguous && sorted.length > 1
      ? `${sorted[0]}–${sorted[sorted.length - 1]}`
      : sorted.length > 8
        ? `${sorted.slice(0, 8).join(',')}… (${sorted.length})`
        : sorted.join(',');
  return `${imageName} chunks ${range}`;
}

export function buildTimeline(
  events: readonly HistoryEvent[],
  invariants: readonly Pick<InvariantOutcome, 'id' | 'actual' | 'offending'>[],
): RunTimeline {
  const t0 = firstAtMs(events);
  const rel = (atMs: number) => Math.max(0, atMs - t0);
  const devices: string[] = [];
  /** A device's lane, added in the order devices first appear. */
  const lane = indexIn(devices);
  const labels: string[] = [];
  const label = indexIn(labels);
  const spans: number[] = [];
  const marks: number[] = [];
  const mark = (mac: string, atMs: number, kind: MarkKind, text: string) =>
    marks.push(lane(mac), rel(atMs), markKinds.indexOf(kind), label(text));
  const fleet: FleetMark[] = [];

  const awakeSince = new Map<string, number>();
  /** Open transfers by mac|sha256: when the first metadata went out, and the image name. */
  const transfers = new Map<string, { readonly startMs: number; readonly imageName: string }>();
  const metadataSeen = new Set<string>();
  /** mac|imageName of the bursts seen: a later burst of the same image is a re-send. */
  const chunkBursts = new Set<string>();
  const planned = new Map<number, PlannedFault>();
  const points = new Map<string, PlannedFault>();
  let endMs = 0;

  for (const e of events) {
    const t = rel(e.atMs);
    if (t > endMs) endMs = t;
    switch (e.type) {
      case 'device_wake':
        lane(e.mac);
        if (!awakeSince.has(e.mac)) awakeSince.set(e.mac, t);
        break;
      case 'device_sleep': {
        const since = awakeSince.get(e.mac);
        if (since !== undefined) spans.push(lane(e.mac), since, t, spanKinds.indexOf('awake'), label(''));
        awakeSince.delete(e.mac);
        break;
      }
      case 'device_captured':
        mark(e.capture.mac, e.atMs, 'captured', `captured ${e.capture.imageName} (${e.capture.sizeBytes} B)`);
        break;
      case 'device_sent_metadata': {
        const key = `${e.mac}|${e.sha256}`;
        const again = metadataSeen.has(key);
        metadataSeen.add(key);
        mark(e.mac, e.atMs, again ? 'resend' : 'metadata', `${again ? 're-sent' : 'metadata'} ${e.imageName}`);
        if (!transfers.has(key)) transfers.set(key, { startMs: t, imageName: e.imageName });
        break;
      }
      case 'device_sent_chunks': {
        const key = `${e.mac}|${e.imageName}`;
        const resent = chunkBursts.has(key);
        chunkBursts.add(key);
        mark(e.mac, e.atMs, resent ? 'chunks-resent' : 'chunks', chunkLabel(e.imageName, e.chunkIds));
        break;
      }
      case 'device_sent_malformed':
        mark(e.mac, e.atMs, 'malformed', `malformed ${e.kind} on ${e.topic}`);
        break;
      case 'device_dequeued': {
        mark(e.mac, e.atMs, 'dequeued', `dequeued ${e.imageName}`);
        const key = `${e.mac}|${e.sha256}`;
        const open = transfers.get(key);
        if (open !== undefined)
          spans.push(lane(e.mac), open.startMs, t, spanKinds.indexOf('transfer'), label(open.imageName));
        transfers.delete(key);
        chunkBursts.delete(`${e.mac}|${e.imageName}`); // the name may be reused by a later capture
        break;
      }
      case 'device_gave_up':
        mark(e.mac, e.atMs, 'gave-up', `gave up: ${e.reason}`);
        break;
      case 'device_lost_capture':
        mark(e.mac, e.atMs, 'lost-capture', `lost capture ${e.imageName}`);
        break;
      case 'device_final':
        lane(e.mac);
        break;
      case 'ack_observed':
        mark(
          e.mac,
          e.atMs,
          e.storedComplete ? 'ack' : 'ack-early',
          `ACK_OK ${e.imageName}${e.storedComplete ? '' : ' before the image was complete'}`,
        );
        break;
      case 'pipeline_missing_requested':
        mark(e.mac, e.atMs, 'resume-request', `missing_chunks ${chunkLabel(e.imageName, e.chunkIds)}`);
        break;
      case 'pipeline_duplicate_logged':
        mark(e.mac, e.atMs, 'duplicate-logged', `duplicate logged ${e.imageName}`);
        break;
      case 'broker_refused':
        if (MAC.test(e.clientId)) mark(e.clientId, e.atMs, 'refused', `broker refused ${e.action}: ${e.reason}`);
        else fleet.push({ tMs: t, kind: 'fault', label: `broker refused ${e.clientId} ${e.action}: ${e.reason}` });
        break;
      case 'nemesis': {
        const text = `${e.fault}${e.detail === undefined ? '' : `: ${e.detail}`}`;
        // A device's own fault, or a network fault on one of its messages (the detail names its topic).
        const device = e.target !== undefined && MAC.test(e.target) ? e.target : macInText(`${e.detail ?? ''}`);
        if (device !== undefined) mark(device, e.atMs, 'fault', e.target === device ? text : `${text} (${e.target})`);
        else fleet.push({ tMs: t, kind: 'fault', label: e.target === undefined ? text : `${text} (${e.target})` });
        break;
      }
      case 'run_phase':
        fleet.push({ tMs: t, kind: 'phase', label: e.phase });
        break;
      case 'fault_planned':
        planned.set(e.planId, {
          fault: e.fault,
          when: e.trigger,
          status: 'planned',
          tMs: undefined,
          detail: '',
        });
        break;
      case 'fault_fired': {
        const p = planned.get(e.planId);
        planned.set(e.planId, {
          fault: e.fault,
          when: p?.when ?? e.trigger,
          status: 'fired',
          tMs: t,
          detail: e.detail,
        });
        break;
      }
      case 'fault_missed':
        planned.set(e.planId, { fault: e.fault, when: e.trigger, status: 'missed', tMs: t, detail: e.detail });
        fleet.push({ tMs: t, kind: 'fault-missed', label: `${e.fault} missed: ${e.detail}` });
        break;
      case 'point_planned':
        points.set(e.point, { fault: e.point, when: 'point', status: 'planned', tMs: undefined, detail: '' });
        break;
      case 'point_struck':
        points.set(e.point, { fault: e.point, when: 'point', status: 'fired', tMs: t, detail: `on ${e.target}` });
        break;
      case 'point_missed':
        points.set(e.point, { fault: e.point, when: 'point', status: 'missed', tMs: t, detail: e.detail });
        fleet.push({ tMs: t, kind: 'fault-missed', label: `${e.point} missed: ${e.detail}` });
        break;
      default:
        break;
    }
  }
  // Still awake or still transferring when the run ended: drawn to the end.
  for (const [mac, since] of awakeSince) spans.push(lane(mac), since, endMs, spanKinds.indexOf('awake'), label(''));
  for (const [key, open] of transfers) {
    const mac = key.slice(0, key.indexOf('|'));
    spans.push(
      lane(mac),
      open.startMs,
      endMs,
      spanKinds.indexOf('transfer-open'),
      label(`${open.imageName} (never acknowledged)`),
    );
  }
  const failing = failingDevices(invariants);
  for (const mac of Object.keys(failing)) lane(mac);
  return {
    format: 'camfleet-timeline/1',
    endMs,
    devices,
    failing,
    spans,
    marks,
    labels,
    fleet,
    plan: [...planned.values(), ...points.values()],
  };
}

/** Index of a string in `list`, appended the first time it is asked for (lanes, interned labels). */
function indexIn(list: string[]): (key: string) => number {
  const ids = new Map<string, number>();
  return (key) => {
    let i = ids.get(key);
    if (i === undefined) {
      i = list.length;
      list.push(key);
      ids.set(key, i);
    }
    return i;
  };
}

/** The earliest atMs (a loop, not Math.min(...all): 10,000 devices' events overflow the argument list). */
function firstAtMs(events: readonly HistoryEvent[]): number {
  let min = Infinity;
  for (const e of events) if (e.atMs < min) min = e.atMs;
  return min === Infinity ? 0 : min;
}
