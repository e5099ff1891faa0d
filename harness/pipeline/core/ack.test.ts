// ACK_OK (pure): the message, the wake time it announces, what is recorded as owed and what is sent after a restart.
import { describe, expect, test } from 'vitest';
import { formatWakeTime } from '../../../simulator/protocol/index.ts';
import { ackOkMessage, owedAckRecord, recoveredAck, wakeAtIso } from './ack.ts';
import { pipelineProfiles, PROFILE_POLICIES } from './profile.ts';
import { defaultNextWakeMs } from './schedule.ts';

const target = {
  mac: 'B8F862F9C1C4',
  dialect: 'spec',
  wireName: 'image_3.jpg',
  imageId: 'id-1',
  captureTimestamp: '2026-1-4 9:5:7',
  imageSize: 70_959,
} as const;
const nowMs = Date.UTC(2026, 0, 14, 10, 0, 0);

describe('ackOkMessage', () => {
  test('names the wire image and announces the wake time given', () => {
    const wakeMs = Date.UTC(2026, 0, 14, 22, 5, 0);
    expect(ackOkMessage(target, wakeMs, nowMs)).toEqual({
      kind: 'ack_ok',
      image_name: 'image_3.jpg',
      next_wake_time: formatWakeTime(wakeMs),
    });
  });

  test('names the capture by its timestamp and size, exactly as the metadata gave them, only under the opt-in option', () => {
    expect(ackOkMessage(target, nowMs, nowMs, true)).toMatchObject({
      image_name: 'image_3.jpg',
      timestamp: '2026-1-4 9:5:7',
      image_size: 70_959,
    });
    expect(ackOkMessage(target, nowMs, nowMs, false)).not.toHaveProperty('timestamp');
    expect(ackOkMessage(target, nowMs, nowMs, false)).not.toHaveProperty('image_size');
    expect(ackOkMessage(target, nowMs, nowMs)).not.toHaveProperty('timestamp');
  });

  test('without a wake time (an owed ACK recorded without one) it announces the default schedule from now', () => {
    expect(ackOkMessage(target, Number.NaN, nowMs)).toMatchObject({
      next_wake_time: formatWakeTime(defaultNextWakeMs(target.mac, nowMs)),
    });
  });
});

describe('owed ACKs', () => {
  test('only the profiles that record owed ACKs record one (fixed)', () => {
    for (const p of pipelineProfiles) {
      const record = owedAckRecord(PROFILE_POLICIES[p], target);
      if (p === 'fixed') expect(record).toEqual({ mac: target.mac, wireName: target.wireName, dialect: 'spec' });
      else expect(record).toBeUndefined();
    }
  });

  test('read back after a restart: basis recovered, the stored dialect (fw350 when unknown), the stored wake time', () => {
    const row = {
      imageId: 'id-1',
      mac: target.mac,
      wireName: 'image_3.jpg',
      dialect: 'spec',
      nextWakeAtMs: 5,
      captureTimestamp: target.captureTimestamp,
      imageSize: target.imageSize,
    };
    expect(recoveredAck(row)).toEqual({ target, wakeMs: 5, basis: 'recovered' });
    expect(recoveredAck({ ...row, dialect: 'mqtt5' }).target.dialect).toBe('fw350');
    expect(recoveredAck({ ...row, nextWakeAtMs: null }).wakeMs).toBeNaN();
  });

  test('the wake time recorded with the completion: ISO, or null when there is none', () => {
    expect(wakeAtIso(nowMs)).toBe('2026-01-14T10:00:00.000Z');
    expect(wakeAtIso(Number.NaN)).toBeNull();
    expect(wakeAtIso(1e20)).toBeNull();
  });
});
