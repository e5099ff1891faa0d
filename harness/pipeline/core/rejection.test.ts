// Refused input (pure): what is not device input at all, and the record a refusal leaves.
import { describe, expect, test } from 'vitest';
import { refuseBeforeLookup } from './metadata.ts';
import { isOwnReply, macOfTopic, rejectionRecord } from './rejection.ts';

describe('decode failures', () => {
  test('the pipeline’s own replies coming back under a wide subscription are not input; other unknown topics are', () => {
    expect(isOwnReply('unknown_topic', 'ESP32CAM/B8F862F9C1C4/cmd')).toBe(true);
    expect(isOwnReply('unknown_topic', 'device/B8F862F9C1C4/ack')).toBe(true);
    expect(isOwnReply('unknown_topic', 'ESP32CAM/B8F862F9C1C4/other')).toBe(false);
    expect(isOwnReply('unknown_topic', 'elsewhere/x')).toBe(false);
    expect(isOwnReply('not_json', 'ESP32CAM/B8F862F9C1C4/cmd')).toBe(false);
  });

  test('the device a topic names, when it names one', () => {
    expect(macOfTopic('ESP32CAM/b8:f8:62:f9:c1:c4/data')).toBe('B8F862F9C1C4');
    expect(macOfTopic('elsewhere/x')).toBeNull();
  });
});

describe('rejectionRecord', () => {
  test('the whole size, an excerpt of 200 characters, NUL dropped from text Postgres would refuse', () => {
    const payload = Buffer.from(`{"a":"\u0000${'x'.repeat(300)}"}`);
    const r = rejectionRecord('ESP32CAM/\u0000X/data', payload, null, 'not_json', 'why\u0000 not');
    expect(r).toMatchObject({ topic: 'ESP32CAM/X/data', deviceMac: null, code: 'not_json', reason: 'why not' });
    expect(r.payloadBytes).toBe(payload.byteLength);
    expect(r.payloadExcerpt.startsWith('{"a":"xxx')).toBe(true);
    expect(r.payloadExcerpt.length).toBeLessThanOrEqual(200);
  });

  test('invalid UTF-8 becomes replacement characters, not an error', () => {
    const r = rejectionRecord('t', Buffer.from([0xff, 0xfe, 0x41]), 'B8F862F9C1C4', 'not_json', 'r');
    expect(r.payloadExcerpt).toBe('\ufffd\ufffdA');
  });
});

describe('refuseBeforeLookup', () => {
  test('a timestamp with NUL is refused before any row is read; anything else goes on', () => {
    const m = {
      kind: 'metadata',
      device_id: 'B8F862F9C1C4',
      timestamp: '2026-01-14T10:00:00Z',
      image_name: 'image_3.jpg',
      image_size: 100,
      max_chunk_size: 100,
      total_chunk_count: 1,
    } as const;
    expect(refuseBeforeLookup(m)).toBeUndefined();
    expect(refuseBeforeLookup({ ...m, timestamp: '2026\u0000' })).toMatchObject({ code: 'bad_field' });
  });
});
