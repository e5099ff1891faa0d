// The broker-side fault at a logical point (fault-points.ts): "the broker drops the PUBACK of chunk C (or the
// metadata) of image N of device D". Both worlds ask the same question of every QoS 1 publish the broker receives
// — the sim router's PUBACK filter (world/sim/router.ts) and the embedded aedes broker's PubAck write
// (aedes-puback.ts) — so the point strikes on the same message in both. Image N is the device's capture N
// (captureSeq N-1), named as the history's device_captured event gives it (as crash-points.ts does); the publish is
// matched by its decoded image name and chunk id, so after a counter reset the first publish of that name counts.
// The message still reaches the pipeline; what the device's MQTT client does without its PUBACK is the world's
// (router.ts close(): no DISCONNECT ever, the session stays until the next one takes it over).
import { followCaptureNames } from './capture-names.ts';
import { decodeDeviceMessage } from '../../simulator/protocol/index.ts';
import type { History } from '../history/history.ts';
import { formatFaultPoint, type DropPubackPoint, type FaultPoint } from './fault-points.ts';

export interface PubackPointDeps {
  readonly history: History;
  /** The MAC of device `index` (1-based, as the fleet numbers its devices), undefined past the fleet's end. */
  readonly macOf: (index: number) => string | undefined;
  /** The chunk-id base on the wire (the fleet's). */
  readonly chunkIdBase: 0 | 1;
}

export interface PubackPoints {
  /** Asked for each QoS 1 publish the broker received: a point whose PUBACK is to be dropped now, or undefined. */
  readonly take: (publisherId: string, topic: string, payload: Uint8Array) => PubackStrike | undefined;
  /** The safety phase is over: every point still waiting (or whose drop failed) is missed. */
  readonly stop: () => void;
}

/** A point taken by a publish: the broker says whether its PUBACK was in fact dropped (recorded only then). */
export interface PubackStrike {
  readonly dropped: () => void;
  readonly notDropped: (why: string) => void;
}

export function isPubackPoint(point: FaultPoint): point is DropPubackPoint {
  return point.kind === 'drop-puback';
}

/** What one device publish is, as far as a drop-puback point asks: its image name and chunk id (undefined: metadata). */
export interface PublishIdentity {
  readonly imageName: string;
  readonly chunk: number | undefined;
}

/** Whether this publish is the point's: the named capture's metadata, or its chunk `chunk`. Pure. */
export function pubackPointDue(
  point: DropPubackPoint,
  publish: PublishIdentity,
  captureName: string | undefined,
): boolean {
  return captureName !== undefined && publish.imageName === captureName && publish.chunk === point.chunk;
}

/** Records the plan's drop-puback points (`point_planned`) and returns the question that strikes them; none: undefined. */
export function planPubackPoints(points: readonly FaultPoint[], deps: PubackPointDeps): PubackPoints | undefined {
  const waiting = points.filter(isPubackPoint);
  if (waiting.length === 0) return undefined;
  const { history } = deps;
  for (const point of waiting) history.append({ type: 'point_planned', point: formatFaultPoint(point) });
  const captures = followCaptureNames(history);
  let stopped = false;
  const failed = new Map<DropPubackPoint, string>();
  return {
    take: (publisherId, topic, payload) => {
      if (stopped) return undefined;
      const mine = waiting.filter((p) => deps.macOf(p.device) === publisherId);
      if (mine.length === 0) return undefined;
      const identity = identify(topic, payload, deps.chunkIdBase);
      if (identity === undefined) return undefined;
      const point = mine.find((p) => pubackPointDue(p, identity, captures.nameOf(publisherId, p.image - 1)));
      if (point === undefined) return undefined;
      waiting.splice(waiting.indexOf(point), 1);
      const text = formatFaultPoint(point);
      const what = point.chunk === undefined ? 'its metadata' : `chunk ${point.chunk}`;
      return {
        dropped: () => {
          history.append({ type: 'point_struck', point: text, target: publisherId });
          history.append({
            type: 'nemesis',
            fault: 'puback_dropped',
            target: publisherId,
            detail: `point ${text}: ${identity.imageName} (image ${point.image}) ${what}`,
          });
        },
        notDropped: (why) => failed.set(point, why),
      };
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const [point, why] of failed)
        history.append({ type: 'point_missed', point: formatFaultPoint(point), detail: why });
      for (const point of waiting.splice(0))
        history.append({
          type: 'point_missed',
          point: formatFaultPoint(point),
          detail: `no such message of device ${point.device} reached the broker during the safety phase`,
        });
    },
  };
}

/** The image and chunk a device publish carries; undefined for anything but metadata and chunks. */
function identify(topic: string, payload: Uint8Array, chunkIdBase: 0 | 1): PublishIdentity | undefined {
  const decoded = decodeDeviceMessage(topic, payload, { chunkIdBase });
  if (!decoded.ok) return undefined;
  const message = decoded.value.message;
  if (message.kind === 'metadata') return { imageName: message.image_name, chunk: undefined };
  if (message.kind === 'chunk') return { imageName: message.image_name, chunk: message.chunk_id };
  return undefined;
}
