import { describe, expect, it } from 'vitest';
import { decodeServerMessage } from './decode-server.ts';
import { encodeServerMessage, serverChannel } from './encode-server.ts';
import type { ServerMessage } from './messages.ts';
import { fixture } from './test-fixtures.ts';

const CMD = 'ESP32CAM/B8F862F9C1C4/cmd';
const ACK = 'ESP32CAM/B8F862F9C1C4/ack';
const MAC = 'B8F862F9C1C4';

function code(topic: string, payload: string, chunkIdBase: 0 | 1 = 0): string {
  const r = decodeServerMessage(topic, payload, { chunkIdBase });
  return r.ok ? 'ok' : r.error.code;
}

describe('encodeServerMessage', () => {
  it('channels: ACK_OK on /ack; missing_chunks on /ack (fw350) or /cmd (spec); the rest on /cmd', () => {
    const missing: ServerMessage = { kind: 'missing_chunks', image_name: 'image_3.jpg', missing_chunks: [4, 9] };
    expect(serverChannel(missing, 'fw350')).toBe('ack');
    expect(serverChannel(missing, 'spec')).toBe('cmd');
    expect(serverChannel({ kind: 'ack_ok' }, 'spec')).toBe('ack');
    for (const kind of ['capture_image', 'send_all_pending'] as const) {
      expect(serverChannel({ kind }, 'fw350')).toBe('cmd');
    }
    expect(encodeServerMessage(MAC, missing, 'spec').topic).toBe('device/B8F862F9C1C4/cmd');
  });

  it.each([
    ['ack-missing-on-ack', true],
    ['ack-ok-next-wake', false],
    ['ack-ok-sleep-only', false],
    ['ack-ok-true', false],
    ['cmd-capture', false],
    ['cmd-next-wake-jan2026', true],
    ['cmd-send-all-pending', false],
    ['cmd-send-image', false],
  ])('re-encoding fixture %s gives its exact wire text and topic (device_id: %s)', (name, includeDeviceId) => {
    const f = fixture('valid', name);
    const r = decodeServerMessage(f.topic, f.payload);
    if (!r.ok) throw new Error(r.error.reason);
    expect(encodeServerMessage(MAC, r.value.message, 'fw350', { includeDeviceId })).toEqual({
      topic: f.topic,
      payload: f.payload,
    });
  });

  it('missing_chunks ids follow the deployment base', () => {
    const wire = encodeServerMessage(
      MAC,
      { kind: 'missing_chunks', image_name: 'image_3.jpg', missing_chunks: [0, 4] },
      'spec',
      {
        chunkIdBase: 1,
      },
    );
    expect(JSON.parse(wire.payload)).toEqual({ image_name: 'image_3.jpg', missing_chunks: [1, 5] });
  });
});

describe('decodeServerMessage', () => {
  it.each([
    [CMD, '{"capture_image":false}', 'bad_field'],
    [CMD, '{"capture_image":"yes"}', 'bad_field'],
    [CMD, '{"send_image":"../x"}', 'bad_image_name'],
    [CMD, '{"next_wake":"25:00PM"}', 'bad_field'],
    [CMD, '{"next_wake":"3:00"}', 'bad_field'],
    [CMD, '{"next_wake":"3:00PM","device_id":"AAAAAAAAAAAA"}', 'device_id_mismatch'],
    [CMD, '{"next_wake":"3:00PM","device_id":"b8-f8-62-f9-c1-c4"}', 'ok'],
    [ACK, '{"ACK_OK":false,"image_name":"image_3.jpg"}', 'bad_field'],
    [ACK, '{"ACK_OK":{"next_wake_time":"noon"}}', 'bad_field'],
    [ACK, '{"ACK_OK":{}}', 'ok'],
    [ACK, '{"image_name":"image_3.jpg","missing_chunks":[-1]}', 'chunk_id_out_of_range'],
    [ACK, '{"image_name":"image_3.jpg","missing_chunks":"4,9"}', 'bad_field'],
    [ACK, '{"missing_chunks":[4]}', 'bad_image_name'],
    [ACK, '{"hello":1}', 'unclassifiable'],
    [ACK, 'nope', 'not_json'],
    ['ESP32CAM/B8F862F9C1C4/data', '{"capture_image":true}', 'unknown_topic'],
  ])('%s %s → %s', (topic, payload, expected) => {
    expect(code(topic, payload)).toBe(expected);
  });

  it('missing_chunks: 1-based ids are converted, 0 is out of range', () => {
    const r = decodeServerMessage(CMD, '{"image_name":"image_3.jpg","missing_chunks":[1,5]}', { chunkIdBase: 1 });
    expect(r.ok && r.value.message).toEqual({
      kind: 'missing_chunks',
      image_name: 'image_3.jpg',
      missing_chunks: [0, 4],
    });
    expect(code(CMD, '{"image_name":"image_3.jpg","missing_chunks":[0]}', 1)).toBe('chunk_id_out_of_range');
  });

  it('ACK_OK wins over other keys', () => {
    const r = decodeServerMessage(ACK, '{"ACK_OK":true,"image_name":"image_3.jpg","next_wake":"1:00AM"}');
    expect(r.ok && r.value.message).toEqual({ kind: 'ack_ok', image_name: 'image_3.jpg' });
  });
});
