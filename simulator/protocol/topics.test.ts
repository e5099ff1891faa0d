import { describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import {
  deviceSubscriptions,
  formatTopic,
  parseTopic,
  serverSubscriptions,
  serverSubscriptionsFor,
  CHANNELS,
} from './topics.ts';
import { deviceIdArb, dialectArb } from './test-arbitraries.ts';

describe('parseTopic', () => {
  it('parses both dialects and normalises the id', () => {
    expect(parseTopic('ESP32CAM/B8F862F9C1C4/status')).toEqual({
      ok: true,
      value: { dialect: 'fw350', deviceId: 'B8F862F9C1C4', channel: 'status' },
    });
    expect(parseTopic('device/98:a3:16:f8:29:28/data')).toEqual({
      ok: true,
      value: { dialect: 'spec', deviceId: '98A316F82928', channel: 'data' },
    });
    expect(parseTopic('device/TEST-7/cmd')).toEqual({
      ok: true,
      value: { dialect: 'spec', deviceId: 'TEST-7', channel: 'cmd' },
    });
  });

  it.each([
    ['ESP32CAM/B8F862F9C1C4/firmware', 'unknown_topic'],
    ['ESP32CAM/B8F862F9C1C4', 'unknown_topic'],
    ['ESP32CAM/B8F862F9C1C4/data/extra', 'unknown_topic'],
    ['/ESP32CAM/B8F862F9C1C4/data', 'unknown_topic'],
    ['esp32cam/B8F862F9C1C4/data', 'unknown_topic'],
    ['other/B8F862F9C1C4/data', 'unknown_topic'],
    ['', 'unknown_topic'],
    ['ESP32CAM/XYZ/status', 'bad_device_id'],
    ['device//status', 'bad_device_id'],
    ['ESP32CAM/+/status', 'bad_device_id'],
  ])('%j → %s', (topic, code) => {
    const r = parseTopic(topic);
    expect(r.ok ? undefined : r.error.code).toBe(code);
  });

  test.prop([dialectArb, deviceIdArb, fc.constantFrom(...CHANNELS)])(
    'formatTopic/parseTopic round trip',
    (dialect, deviceId, channel) => {
      const t = { dialect, deviceId, channel };
      expect(parseTopic(formatTopic(t))).toEqual({ ok: true, value: t });
    },
  );
});

describe('subscriptions', () => {
  it('server: status and data of every device, both dialects by default', () => {
    expect(serverSubscriptions()).toEqual(['ESP32CAM/+/status', 'ESP32CAM/+/data', 'device/+/status', 'device/+/data']);
    expect(serverSubscriptions(['spec'])).toEqual(['device/+/status', 'device/+/data']);
    // A shard's pipeline: the same topics of its own devices only.
    expect(serverSubscriptionsFor(['B8F862000001', 'B8F862000002'], ['fw350'])).toEqual([
      'ESP32CAM/B8F862000001/status',
      'ESP32CAM/B8F862000001/data',
      'ESP32CAM/B8F862000002/status',
      'ESP32CAM/B8F862000002/data',
    ]);
    expect(serverSubscriptionsFor(['B8F862000001'])).toHaveLength(4);
  });
  it('device: its own cmd and ack', () => {
    expect(deviceSubscriptions('B8F862F9C1C4', 'fw350')).toEqual([
      'ESP32CAM/B8F862F9C1C4/cmd',
      'ESP32CAM/B8F862F9C1C4/ack',
    ]);
    expect(deviceSubscriptions('B8F862F9C1C4', 'spec')).toEqual(['device/B8F862F9C1C4/cmd', 'device/B8F862F9C1C4/ack']);
  });
});
