// The device-side faults at logical points (fault-points.ts): "device D reboots after K chunks of its image N" and
// "device D's flash counter resets before its wake W". They are counted in the device's own messages and wakes, so
// they strike at the same moment in a live run as in a sim run. `planDevicePoints` records every point as the fleet
// is built (`point_planned`; a device the fleet does not have is missed at once), and each device's filter gets a
// `DevicePoints` with its own: it records `point_struck` and the fault's `nemesis` event the moment one strikes,
// and `point_missed` for the rest when the filter is dropped (end of the safety phase) — E1 is then `unknown`.
import type { DeviceMessage } from '../../simulator/protocol/index.ts';
import type { History } from '../history/history.ts';
import type { FilteredDevice } from '../fleet/effect-filter.ts';
import { formatFaultPoint, type CounterResetPoint, type FaultPoint, type RebootPoint } from './fault-points.ts';

export type DevicePoint = RebootPoint | CounterResetPoint;

export function isDevicePoint(point: FaultPoint): point is DevicePoint {
  return point.kind === 'reboot' || point.kind === 'counter-reset';
}

/**
 * Records the plan's device points in the history and hands each device (by its 1-based index) its own. A point on
 * a device past the fleet's end can never strike: recorded missed right away.
 */
export function planDevicePoints(
  points: readonly FaultPoint[],
  devices: number,
  history: History,
): (index: number) => readonly DevicePoint[] {
  const own = points.filter(isDevicePoint);
  for (const point of own) {
    const text = formatFaultPoint(point);
    history.append({ type: 'point_planned', point: text });
    if (point.device > devices)
      history.append({ type: 'point_missed', point: text, detail: `the fleet has ${devices} devices` });
  }
  return devicePointsByIndex(own);
}

/** Each device's (by its 1-based index) points of the plan, recording nothing: a fleet thread's share of a plan the
 *  run recorded with `planDevicePoints`. */
export function devicePointsByIndex(points: readonly FaultPoint[]): (index: number) => readonly DevicePoint[] {
  const own = points.filter(isDevicePoint);
  return (index) => own.filter((point) => point.device === index);
}

/** The capture a publish belongs to: the one in flight with that name, else the oldest queued with it. */
function captureOf(message: DeviceMessage, device: FilteredDevice): number | undefined {
  if (message.kind !== 'metadata' && message.kind !== 'chunk') return undefined;
  const queue = device.state.persistent.sd.queue;
  const inFlight = device.state.ram.inFlight;
  const name = message.image_name;
  return (queue.find((q) => q.name === name && q.captureSeq === inFlight) ?? queue.find((q) => q.name === name))
    ?.captureSeq;
}

/**
 * Whether publishing `message` is the reboot point's moment: chunk `afterChunks - 1` of capture `image` (1-based
 * capture index = captureSeq + 1), or its metadata when `afterChunks` is 0. Pure.
 */
export function rebootPointDue(point: RebootPoint, message: DeviceMessage, captureSeq: number | undefined): boolean {
  if (captureSeq !== point.image - 1) return false;
  if (point.afterChunks === 0) return message.kind === 'metadata';
  return message.kind === 'chunk' && message.chunk_id === point.afterChunks - 1;
}

/** One device's points, as its fault filter makes them strike. */
export class DevicePoints {
  private readonly waiting: DevicePoint[];

  constructor(points: readonly DevicePoint[]) {
    this.waiting = [...points];
  }

  get any(): boolean {
    return this.waiting.length > 0;
  }

  /** Before wake `device.wakes` starts: a counter reset due now strikes (a counter still at 0 has nothing to reset). */
  beforeWake(device: FilteredDevice): void {
    for (const point of this.waiting.filter((x) => x.kind === 'counter-reset' && x.wake === device.wakes)) {
      this.settle(point);
      const text = formatFaultPoint(point);
      const counter = device.state.persistent.flash.imageCounter;
      if (counter === 0) {
        device.record({ type: 'point_missed', point: text, detail: `flash counter already 0 at wake ${device.wakes}` });
        continue;
      }
      device.writeImageCounter(0);
      this.strike(device, point, 'counter_reset', `wake ${device.wakes}: flash counter ${counter} -> 0`);
    }
  }

  /** After the device published `message`: true when a reboot point strikes now (the caller cuts the power). */
  afterPublish(message: DeviceMessage, device: FilteredDevice): boolean {
    const reboots = this.waiting.filter((x): x is RebootPoint => x.kind === 'reboot');
    if (reboots.length === 0) return false;
    const captureSeq = captureOf(message, device);
    const due = reboots.find((point) => rebootPointDue(point, message, captureSeq));
    if (due === undefined) return false;
    this.settle(due);
    const what = message.kind === 'chunk' ? `after chunk ${message.chunk_id}` : 'after its metadata';
    const name = message.kind === 'chunk' || message.kind === 'metadata' ? message.image_name : '?';
    this.strike(
      device,
      due,
      'reboot',
      `wake ${device.wakes}: ${name} (image ${due.image}) ${what} (RAM lost, SD kept)`,
    );
    return true;
  }

  /** The safety phase is over: every point still waiting never struck. */
  end(device: FilteredDevice): void {
    for (const point of this.waiting.splice(0)) {
      const detail =
        point.kind === 'counter-reset'
          ? `the device had ${device.wakes} wakes in the safety phase`
          : device.state.persistent.sim.captureSeqNext < point.image
            ? `the device captured ${device.state.persistent.sim.captureSeqNext} images in the safety phase`
            : `its image ${point.image} never had ${point.afterChunks === 0 ? 'its metadata' : `chunk ${point.afterChunks - 1}`} sent in the safety phase`;
      device.record({ type: 'point_missed', point: formatFaultPoint(point), detail });
    }
  }

  private settle(point: DevicePoint): void {
    this.waiting.splice(this.waiting.indexOf(point), 1);
  }

  private strike(device: FilteredDevice, point: DevicePoint, fault: string, detail: string): void {
    const text = formatFaultPoint(point);
    device.record({ type: 'point_struck', point: text, target: device.mac });
    device.recordAction(fault, `point ${text}: ${detail}`);
  }
}
