import { describe, expect, test } from 'vitest';
import { createRng } from '../../simulator/random/prng.ts';
import {
  DeviceNemesis,
  driftedDialect,
  rebootAfterChunks,
  transferOrder,
  type SendFaults,
  type WakeFaults,
} from './device-nemesis.ts';
import { faultMixes, type DeviceFaults } from './fault-plan.ts';

const none = faultMixes.none.device;
const all: DeviceFaults = {
  rebootRate: 1,
  tornWriteRate: 1,
  counterResetRate: 1,
  doubleSendRate: 1,
  interleavedSendRate: 1,
  duplicateMetadataRate: 1,
  wifiOutageRate: 1,
  wifiOutageWakes: 2,
  badClockRate: 1,
  dialectDriftRate: 1,
  corruptMessageRate: 1,
};

function trace(faults: DeviceFaults, seed: number, wakes = 40) {
  const nemesis = new DeviceNemesis(faults, createRng(seed).fork('nemesis:device:B8F862000001'));
  const plans: WakeFaults[] = [];
  for (let w = 1; w <= wakes; w++) plans.push(nemesis.planWake(w));
  const torn = Array.from({ length: wakes }, (_, i) => nemesis.tornWrite(i));
  const sends: SendFaults[] = Array.from({ length: wakes }, (_, i) => nemesis.sendFaults(i));
  return { dialectDrift: nemesis.dialectDrift, plans, torn, sends };
}

describe('DeviceNemesis', () => {
  test('the same seed gives the same decisions; another seed other ones', () => {
    const half: DeviceFaults = {
      ...all,
      rebootRate: 0.5,
      tornWriteRate: 0.5,
      counterResetRate: 0.5,
      doubleSendRate: 0.3,
      interleavedSendRate: 0.3,
      duplicateMetadataRate: 0.5,
      wifiOutageRate: 0.2,
      badClockRate: 0.5,
      dialectDriftRate: 0.5,
    };
    expect(trace(half, 7)).toEqual(trace(half, 7));
    expect(trace(half, 7)).not.toEqual(trace(half, 8));
  });

  test('a decision depends only on its opportunity, not on what was asked before', () => {
    const a = new DeviceNemesis({ ...all, tornWriteRate: 0.5 }, createRng(3));
    const b = new DeviceNemesis({ ...all, tornWriteRate: 0.5 }, createRng(3));
    for (let i = 0; i < 10; i++) b.sendFaults(i);
    expect(Array.from({ length: 20 }, (_, i) => a.tornWrite(i))).toEqual(
      Array.from({ length: 20 }, (_, i) => b.tornWrite(i)),
    );
  });

  test('rate 0 → never', () => {
    const t = trace(none, 11, 200);
    expect(t.dialectDrift).toBe(false);
    for (const p of t.plans) {
      expect(p).toMatchObject({ counterReset: false, badClock: false, wifiOutage: false, wifiOutageStarts: 0 });
      expect(p.rebootAtFraction).toBeNull();
    }
    expect(t.torn.every((x) => !x)).toBe(true);
    expect(t.sends.every((s) => s.mode === 'once' && !s.duplicateMetadata)).toBe(true);
    expect(new DeviceNemesis(none, createRng(1)).sendFaultsOn).toBe(false);
  });

  test('rate 1 → always (an outage of K wakes is always followed by one wake with Wi-Fi)', () => {
    const t = trace(all, 11, 9);
    expect(t.dialectDrift).toBe(true);
    expect(t.plans.map((p) => p.wifiOutage)).toEqual([true, true, false, true, true, false, true, true, false]);
    expect(t.plans.map((p) => p.wifiOutageStarts)).toEqual([2, 0, 0, 2, 0, 0, 2, 0, 0]);
    for (const p of t.plans) {
      expect(p.counterReset).toBe(true);
      expect(p.badClock).toBe(true);
      // A wake without Wi-Fi has no transfer to reboot in.
      expect(p.rebootAtFraction === null).toBe(p.wifiOutage);
    }
    expect(t.torn.every((x) => x)).toBe(true);
    // double wins over interleaved when both strike the same transfer
    expect(t.sends.every((s) => s.mode === 'double' && s.duplicateMetadata)).toBe(true);
    expect(trace({ ...none, interleavedSendRate: 1 }, 1, 5).sends.every((s) => s.mode === 'interleaved')).toBe(true);
  });

  test('reboot points cover the whole transfer', () => {
    const nemesis = new DeviceNemesis({ ...none, rebootRate: 1 }, createRng(5));
    const points = new Set<number>();
    for (let w = 1; w <= 400; w++) points.add(rebootAfterChunks(nemesis.planWake(w).rebootAtFraction ?? -1, 5));
    expect([...points].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(rebootAfterChunks(0, 70)).toBe(1);
    expect(rebootAfterChunks(0.9999, 70)).toBe(70);
    expect(rebootAfterChunks(0.5, 0)).toBe(1);
  });

  test('wakes are planned in increasing order', () => {
    const nemesis = new DeviceNemesis(none, createRng(1));
    nemesis.planWake(1);
    expect(() => nemesis.planWake(1)).toThrow(RangeError);
  });

  test('corrupt message: drawn after the other send faults (switching it on shifts none of them), kind from the seed', () => {
    const half: DeviceFaults = { ...none, doubleSendRate: 0.3, interleavedSendRate: 0.3, duplicateMetadataRate: 0.5 };
    const off = new DeviceNemesis(half, createRng(5));
    const on = new DeviceNemesis({ ...half, corruptMessageRate: 1 }, createRng(5));
    const again = new DeviceNemesis({ ...half, corruptMessageRate: 1 }, createRng(5));
    for (let i = 0; i < 30; i++) {
      const { corrupt, ...rest } = on.sendFaults(i);
      expect(rest).toEqual(off.sendFaults(i));
      expect(off.sendFaults(i).corrupt).toBeUndefined();
      expect(['bad_base64', 'truncated_json', 'mac_mismatch']).toContain(corrupt);
      expect(again.sendFaults(i).corrupt).toBe(corrupt);
    }
    expect(new DeviceNemesis({ ...none, corruptMessageRate: 0.01 }, createRng(1)).sendFaultsOn).toBe(true);
  });
});

describe('transferOrder', () => {
  test('once, double, interleaved, duplicate metadata', () => {
    expect(transferOrder(3, { mode: 'once', duplicateMetadata: false })).toEqual([0, 1, 2, 3]);
    expect(transferOrder(3, { mode: 'once', duplicateMetadata: true })).toEqual([0, 0, 1, 2, 3]);
    expect(transferOrder(3, { mode: 'double', duplicateMetadata: false })).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(transferOrder(4, { mode: 'interleaved', duplicateMetadata: false })).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 3, 4]);
    expect(transferOrder(1, { mode: 'interleaved', duplicateMetadata: false })).toEqual([0, 1, 0, 1]);
    expect(transferOrder(0, { mode: 'double', duplicateMetadata: false })).toEqual([0, 0]);
  });

  test('driftedDialect swaps', () => {
    expect(driftedDialect('fw350')).toBe('spec');
    expect(driftedDialect('spec')).toBe('fw350');
  });
});
