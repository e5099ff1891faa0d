import { describe, expect, it } from 'vitest';
import { decodeDeviceMessage } from './decode-device.ts';
import { decodeServerMessage } from './decode-server.ts';
import type { Decoded, RejectCode } from './messages.ts';
import { loadFixtures, type Fixture } from './test-fixtures.ts';

function decodeAny(f: Fixture): Decoded<{ message: unknown; topic: unknown }> {
  const channel = f.topic.split('/')[2];
  return channel === 'cmd' || channel === 'ack'
    ? decodeServerMessage(f.topic, f.payload)
    : decodeDeviceMessage(f.topic, f.payload);
}

const MAC = 'B8F862F9C1C4';
const JPEG_HEAD = new Uint8Array(Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/', 'base64'));

/** What each valid fixture must decode to (topic dialect/channel and the message). */
const VALID: Record<string, { dialect: string; channel: string; message: unknown }> = {
  'ack-missing-on-ack': {
    dialect: 'fw350',
    channel: 'ack',
    message: { kind: 'missing_chunks', image_name: 'image_3.jpg', missing_chunks: [4, 9] },
  },
  'ack-missing-on-cmd': {
    dialect: 'fw350',
    channel: 'cmd',
    message: { kind: 'missing_chunks', image_name: 'image_3.jpg', missing_chunks: [4, 9] },
  },
  'ack-ok-next-wake': {
    dialect: 'fw350',
    channel: 'ack',
    message: { kind: 'ack_ok', image_name: 'image_3.jpg', next_wake_time: '3:00PM' },
  },
  'ack-ok-sleep-only': { dialect: 'fw350', channel: 'ack', message: { kind: 'ack_ok', next_wake_time: '12:00PM' } },
  'ack-ok-true': { dialect: 'fw350', channel: 'ack', message: { kind: 'ack_ok', image_name: 'image_3.jpg' } },
  'chunk-fw350': {
    dialect: 'fw350',
    channel: 'data',
    message: {
      kind: 'chunk',
      device_id: MAC,
      image_name: 'image_3.jpg',
      chunk_id: 0,
      max_chunk_size: 1024,
      payload: JPEG_HEAD,
    },
  },
  'cmd-capture': { dialect: 'fw350', channel: 'cmd', message: { kind: 'capture_image' } },
  'cmd-next-wake-jan2026': { dialect: 'fw350', channel: 'cmd', message: { kind: 'next_wake', next_wake: '5:30PM' } },
  'cmd-send-all-pending': { dialect: 'fw350', channel: 'cmd', message: { kind: 'send_all_pending' } },
  'cmd-send-image': { dialect: 'fw350', channel: 'cmd', message: { kind: 'send_image', image_name: 'image_3.jpg' } },
  'hello-fw350': {
    dialect: 'fw350',
    channel: 'status',
    message: {
      kind: 'hello',
      device_id: MAC,
      status: 'Alive',
      pendingImg: 2,
      pending_list: ['image_3.jpg', 'image_4.jpg'],
    },
  },
  'hello-smart-quotes': {
    dialect: 'fw350',
    channel: 'status',
    message: { kind: 'hello', device_id: MAC, status: 'Alive', pendingImg: 0, pending_list: [] },
  },
  'hello-spec': {
    dialect: 'spec',
    channel: 'status',
    message: {
      kind: 'hello',
      device_id: MAC,
      status: 'alive',
      pendingImg: 0,
      pending_list: [],
      firmware_version: '3.5.0',
      battery_voltage: 3.91,
      wifi_rssi: -61,
    },
  },
  'metadata-bad-clock': {
    dialect: 'fw350',
    channel: 'data',
    message: {
      kind: 'metadata',
      device_id: MAC,
      timestamp: '1970-01-01T00:00:12Z',
      image_name: 'image_5.jpg',
      image_id: 5,
      image_size: 1500,
      max_chunk_size: 1024,
      total_chunk_count: 2,
      error: 0,
      sensor_data: { temperature: 20, humidity: 40, pressure: 1010, gas_resistance: 100 },
    },
  },
  'metadata-fw350': {
    dialect: 'fw350',
    channel: 'data',
    message: {
      kind: 'metadata',
      device_id: MAC,
      timestamp: '2026-01-14T10:00:00Z',
      image_name: 'image_3.jpg',
      image_id: 3,
      image_size: 70959,
      max_chunk_size: 1024,
      total_chunk_count: 70,
      location: 'office_404',
      error: 0,
      sensor_data: { temperature: 22.5, humidity: 45.1, pressure: 1013.2, gas_resistance: 120.4 },
    },
  },
  'metadata-spec': {
    dialect: 'spec',
    channel: 'data',
    message: {
      kind: 'metadata',
      device_id: MAC,
      timestamp: '2026-1-4 9:5:7',
      image_name: 'image_4.jpg',
      image_id: 4,
      image_size: 2048,
      max_chunk_size: 1024,
      total_chunk_count: 2,
      sensor_data: { temperature: 21, humidity: 40, pressure: 1012, gas_resistance: 99 },
    },
  },
  'telemetry-only': {
    dialect: 'fw350',
    channel: 'data',
    message: {
      kind: 'telemetry',
      device_id: MAC,
      captured_at: '2026-01-14T10:00:00Z',
      sensor_data: { temperature: 22.5, humidity: 45.1, pressure: 1013.2, gas_resistance: 120.4 },
      battery_voltage: 3.9,
      wifi_rssi: -60,
    },
  },
};

const INVALID: Record<string, RejectCode> = {
  'bad-mac-topic': 'bad_device_id',
  'chunk-bad-base64': 'bad_base64',
  'chunk-negative-id': 'chunk_id_out_of_range',
  'mac-mismatch': 'device_id_mismatch',
  'metadata-absurd-total': 'total_chunks_absurd',
  'metadata-size-mismatch': 'size_chunks_mismatch',
  'not-json': 'not_json',
  'path-traversal-name': 'bad_image_name',
  'unknown-topic': 'unknown_topic',
};

describe('valid fixtures', () => {
  const fixtures = loadFixtures('valid');

  it('every valid fixture has an expectation here', () => {
    expect(fixtures.map((f) => f.name)).toEqual(Object.keys(VALID).sort());
  });

  it.each(fixtures)('$name decodes to the expected message', (f) => {
    const expected = VALID[f.name];
    const r = decodeAny(f);
    expect(r).toEqual({
      ok: true,
      value: {
        topic: { dialect: expected?.dialect, deviceId: MAC, channel: expected?.channel },
        message: expected?.message,
      },
    });
  });
});

describe('invalid fixtures', () => {
  const fixtures = loadFixtures('invalid');

  it('every invalid fixture has an expected code here', () => {
    expect(fixtures.map((f) => f.name)).toEqual(Object.keys(INVALID).sort());
  });

  it.each(fixtures)('$name is rejected with the expected code and a reason', (f) => {
    const r = decodeAny(f);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(INVALID[f.name]);
    expect(r.error.reason.length).toBeGreaterThan(10);
  });

  it('reasons name the field and the value', () => {
    const reasons = Object.fromEntries(
      fixtures.map((f) => {
        const r = decodeAny(f);
        return [f.name, r.ok ? '' : r.error.reason];
      }),
    );
    expect(reasons['chunk-negative-id']).toMatch(/chunk_id -1/);
    expect(reasons['mac-mismatch']).toMatch(/AAAAAAAAAAAA/);
    expect(reasons['metadata-absurd-total']).toMatch(/total_chunk_count 5000000/);
    expect(reasons['metadata-size-mismatch']).toMatch(
      /total_chunk_count 3 .*image_size 70959.*max_chunks_size 1024.* 70/,
    );
    expect(reasons['path-traversal-name']).toMatch(/image_name "\.\.\/\.\.\/etc\/passwd"/);
    expect(reasons['bad-mac-topic']).toMatch(/"XYZ"/);
    expect(reasons['unknown-topic']).toMatch(/"firmware"/);
  });
});
