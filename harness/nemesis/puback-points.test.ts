// The drop-puback planner alone (the worlds' sides: router-puback.test.ts, aedes-puback.test.ts, the sim and live
// runs): which publish a point takes — device D's capture N by the history, its metadata or chunk C — and what it
// records: struck only once the broker says the PUBACK was dropped, missed otherwise.
import { describe, expect, test } from 'vitest';
import { encodeDeviceMessage, type DeviceMessage } from '../../simulator/protocol/index.ts';
import { History } from '../history/history.ts';
import { parseFaultPoint } from './fault-points.ts';
import { planPubackPoints } from './puback-points.ts';

const macs = ['aabbccddee01', 'aabbccddee02'];

function wire(mac: string, imageName: string, chunk?: number): { topic: string; payload: Uint8Array } {
  const message: DeviceMessage =
    chunk === undefined
      ? {
          kind: 'metadata',
          device_id: mac,
          timestamp: '2026-01-14 10:00:00',
          image_name: imageName,
          image_size: 2048,
          max_chunk_size: 1024,
          total_chunk_count: 2,
        }
      : { kind: 'chunk', device_id: mac, image_name: imageName, chunk_id: chunk, payload: new Uint8Array([1, 2]) };
  const { topic, payload } = encodeDeviceMessage(message, 'fw350');
  return { topic, payload: Buffer.from(payload) };
}

function captured(history: History, mac: string, captureSeq: number, imageName: string): void {
  history.append({
    type: 'device_captured',
    capture: { mac, imageName, sha256: 'x', sizeBytes: 2048, captureTimestamp: 't', captureSeq },
  });
}

describe('drop-puback points', () => {
  test("takes exactly device 2's image 2 chunk 1; struck and its nemesis event once the broker dropped it", () => {
    const history = new History(() => 0);
    const point = 'drop-puback:device=2,image=2,chunk=1';
    const points = planPubackPoints([parseFaultPoint(point)], {
      history,
      macOf: (i) => macs[i - 1],
      chunkIdBase: 0,
    });
    captured(history, macs[1]!, 0, 'image_1.jpg');
    captured(history, macs[0]!, 1, 'image_2.jpg');
    const take = (mac: string, name: string, chunk?: number) => {
      const w = wire(mac, name, chunk);
      return points?.take(mac, w.topic, w.payload);
    };
    expect(take(macs[1]!, 'image_1.jpg', 1)).toBeUndefined(); // its image 1
    expect(take(macs[0]!, 'image_2.jpg', 1)).toBeUndefined(); // device 1
    expect(take(macs[1]!, 'image_2.jpg', 1)).toBeUndefined(); // not captured yet
    captured(history, macs[1]!, 1, 'image_2.jpg');
    expect(take(macs[1]!, 'image_2.jpg')).toBeUndefined(); // its metadata
    expect(take(macs[1]!, 'image_2.jpg', 0)).toBeUndefined();
    const strike = take(macs[1]!, 'image_2.jpg', 1);
    expect(strike).toBeDefined();
    expect(history.ofType('point_struck')).toEqual([]); // not before the broker says so
    strike?.dropped();
    expect(take(macs[1]!, 'image_2.jpg', 1)).toBeUndefined(); // once
    points?.stop();
    expect(history.events.map((e) => e.type)).toEqual([
      'point_planned',
      'device_captured',
      'device_captured',
      'device_captured',
      'point_struck',
      'nemesis',
    ]);
    expect(history.ofType('nemesis')).toEqual([
      expect.objectContaining({
        fault: 'puback_dropped',
        target: macs[1],
        detail: `point ${point}: image_2.jpg (image 2) chunk 1`,
      }),
    ]);
  });

  test('a drop the broker could not make, and a point never taken, are missed with why', () => {
    const history = new History(() => 0);
    const points = planPubackPoints(
      ['drop-puback:device=1,image=1', 'drop-puback:device=2,image=1,chunk=9'].map(parseFaultPoint),
      { history, macOf: (i) => macs[i - 1], chunkIdBase: 0 },
    );
    captured(history, macs[0]!, 0, 'image_1.jpg');
    const w = wire(macs[0]!, 'image_1.jpg');
    points?.take(macs[0]!, w.topic, w.payload)?.notDropped('no PUBACK written');
    points?.stop();
    expect(history.ofType('point_struck')).toEqual([]);
    expect(history.ofType('point_missed').map((e) => [e.point, e.detail])).toEqual([
      ['drop-puback:device=1,image=1', 'no PUBACK written'],
      [
        'drop-puback:device=2,image=1,chunk=9',
        'no such message of device 2 reached the broker during the safety phase',
      ],
    ]);
  });

  test('no drop-puback point: nothing planned', () => {
    const history = new History(() => 0);
    const none = planPubackPoints([parseFaultPoint('crash-before-ack')], {
      history,
      macOf: () => undefined,
      chunkIdBase: 0,
    });
    expect(none).toBeUndefined();
    expect(history.events).toEqual([]);
  });
});
