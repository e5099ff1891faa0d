import { describe, expect, it } from 'vitest';
import { decodeDeviceMessage } from './decode-device.ts';
import type { Decoded, RejectCode } from './messages.ts';

const DATA = 'ESP32CAM/B8F862F9C1C4/data';
const STATUS = 'ESP32CAM/B8F862F9C1C4/status';
const SPEC_DATA = 'device/B8F862F9C1C4/data';

function code(r: Decoded<unknown>): RejectCode | 'ok' {
  return r.ok ? 'ok' : r.error.code;
}
function message(r: ReturnType<typeof decodeDeviceMessage>): unknown {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.reason}`);
  return r.value.message;
}
const chunk = (over: Record<string, unknown>): string =>
  JSON.stringify({
    device_id: 'B8F862F9C1C4',
    image_name: 'image_3.jpg',
    chunk_id: 0,
    max_chunk_size: 1024,
    payload: '/9j/',
    ...over,
  });
const meta = (over: Record<string, unknown>): string =>
  JSON.stringify({
    device_id: 'B8F862F9C1C4',
    timestamp: '2026-01-14T10:00:00Z',
    image_name: 'image_3.jpg',
    image_size: 2048,
    max_chunks_size: 1024,
    total_chunk_count: 2,
    ...over,
  });

describe('chunks', () => {
  it('accepts a JSON byte array payload (PDF / old test tool)', () => {
    expect(message(decodeDeviceMessage(DATA, chunk({ payload: [255, 216, 255] })))).toMatchObject({
      kind: 'chunk',
      payload: new Uint8Array([255, 216, 255]),
    });
  });

  it.each([
    ['!!!not base64!!!', 'bad_base64'],
    ['/9j', 'bad_base64'], // unpadded
    ['/9j/\n', 'bad_base64'],
    ['-_-_', 'bad_base64'], // URL-safe alphabet
    ['ab=c', 'bad_base64'],
    ['', 'bad_field'],
    [[], 'bad_field'],
    [[256], 'bad_field'],
    [[-1], 'bad_field'],
    [[1.5], 'bad_field'],
    [['1'], 'bad_field'],
    [42, 'bad_field'],
  ])('payload %j → %s', (payload, expected) => {
    expect(code(decodeDeviceMessage(DATA, chunk({ payload })))).toBe(expected);
  });

  it('accepts padded base64 of every length', () => {
    for (const b64 of ['AA==', 'AAA=', 'AAAA', '/9j/4A=='])
      expect(code(decodeDeviceMessage(DATA, chunk({ payload: b64 })))).toBe('ok');
  });

  it('a missing payload is missing_field', () => {
    expect(code(decodeDeviceMessage(DATA, chunk({ payload: null })))).toBe('missing_field');
  });

  it('a payload larger than max_chunk_size is bad_field', () => {
    expect(code(decodeDeviceMessage(DATA, chunk({ max_chunk_size: 2, payload: '/9j/' })))).toBe('bad_field');
  });

  it('converts 1-based chunk ids when the deployment says so', () => {
    expect(message(decodeDeviceMessage(SPEC_DATA, chunk({ chunk_id: 1 }), { chunkIdBase: 1 }))).toMatchObject({
      chunk_id: 0,
    });
    expect(code(decodeDeviceMessage(SPEC_DATA, chunk({ chunk_id: 0 }), { chunkIdBase: 1 }))).toBe(
      'chunk_id_out_of_range',
    );
    expect(message(decodeDeviceMessage(SPEC_DATA, chunk({ chunk_id: 0 })))).toMatchObject({ chunk_id: 0 });
  });

  it.each([
    [-1, 'chunk_id_out_of_range'],
    [10_000, 'chunk_id_out_of_range'],
    [1.5, 'bad_field'],
    ['3', 'bad_field'],
  ])('chunk_id %j → %s', (chunk_id, expected) => {
    expect(code(decodeDeviceMessage(DATA, chunk({ chunk_id })))).toBe(expected);
  });

  it('unsafe image names are bad_image_name', () => {
    for (const image_name of [
      '../x.jpg',
      'a/b.jpg',
      'a\\b.jpg',
      '.hidden',
      'a\u0000b',
      'x'.repeat(129),
      '',
      'a..b',
      7,
    ]) {
      expect(code(decodeDeviceMessage(DATA, chunk({ image_name })))).toBe('bad_image_name');
    }
    expect(code(decodeDeviceMessage(DATA, chunk({ image_name: 'x'.repeat(128) })))).toBe('ok');
    expect(code(decodeDeviceMessage(DATA, chunk({ image_name: undefined })))).toBe('missing_field');
  });
});

describe('metadata', () => {
  it('accepts both spellings of each field', () => {
    const spec = meta({
      timestamp: undefined,
      capture_timeStamp: '2026-1-4 9:5:7',
      max_chunks_size: undefined,
      max_chunk_size: 1024,
      total_chunk_count: undefined,
      total_chunks_count: 2,
    });
    expect(message(decodeDeviceMessage(SPEC_DATA, spec))).toEqual({
      kind: 'metadata',
      device_id: 'B8F862F9C1C4',
      timestamp: '2026-1-4 9:5:7',
      image_name: 'image_3.jpg',
      image_size: 2048,
      max_chunk_size: 1024,
      total_chunk_count: 2,
    });
  });

  it('rejects aliases that disagree', () => {
    expect(code(decodeDeviceMessage(DATA, meta({ total_chunks_count: 3 })))).toBe('bad_field');
    expect(code(decodeDeviceMessage(DATA, meta({ max_chunk_size: 512 })))).toBe('bad_field');
    expect(code(decodeDeviceMessage(DATA, meta({ total_chunks_count: 2, max_chunk_size: 1024 })))).toBe('ok');
  });

  it.each([
    [{ total_chunk_count: 0 }, 'total_chunks_absurd'],
    [{ total_chunk_count: -2 }, 'total_chunks_absurd'],
    [{ total_chunk_count: 1.5 }, 'total_chunks_absurd'],
    [{ total_chunk_count: '2' }, 'bad_field'],
    [{ image_size: 0 }, 'bad_field'],
    [{ image_size: 2049 }, 'size_chunks_mismatch'],
    [{ image_size: 1025 }, 'ok'],
    [{ max_chunks_size: 0 }, 'bad_field'],
    [{ timestamp: undefined }, 'missing_field'],
    [{ image_size: undefined }, 'missing_field'],
    [{ timestamp: 5 }, 'bad_field'],
    [{ image_name: 'img/3.jpg' }, 'bad_image_name'],
    [{ sensor_data: 'hot' }, 'bad_field'],
    [{ sensor_data: { temperature: '22' } }, 'bad_field'],
    [{ image_id: -1 }, 'bad_field'],
    [{ device_id: '98:a3:16:f8:29:28' }, 'device_id_mismatch'],
    [{ device_id: 'b8:f8:62:f9:c1:c4' }, 'ok'],
    [{ device_id: 'nope' }, 'bad_device_id'],
    [{ device_id: 42 }, 'bad_device_id'],
    [{ device_id: undefined }, 'ok'],
  ])('%j → %s', (over, expected) => {
    expect(code(decodeDeviceMessage(DATA, meta(over)))).toBe(expected);
  });

  it('honours maxTotalChunks', () => {
    const big = meta({ image_size: 20_000 * 1024, total_chunk_count: 20_000 });
    expect(code(decodeDeviceMessage(DATA, big))).toBe('total_chunks_absurd');
    expect(code(decodeDeviceMessage(DATA, big, { maxTotalChunks: 20_000, maxPayloadBytes: 1e6 }))).toBe('ok');
  });

  it('treats JSON null as absent and keeps nested sensors over flat ones', () => {
    expect(
      message(
        decodeDeviceMessage(
          DATA,
          meta({ location: null, sensor_data: { temperature: 1 }, temperature: 2, humidity: 3 }),
        ),
      ),
    ).toMatchObject({
      sensor_data: { temperature: 1, humidity: 3 },
    });
  });
});

describe('hello, telemetry, classification', () => {
  it('hello: pending_list defaults to [] and must hold safe names', () => {
    expect(message(decodeDeviceMessage(STATUS, '{"status":"Alive","pendingImg":0}'))).toEqual({
      kind: 'hello',
      device_id: 'B8F862F9C1C4',
      status: 'Alive',
      pendingImg: 0,
      pending_list: [],
    });
    expect(code(decodeDeviceMessage(STATUS, '{"status":"Alive","pendingImg":1,"pending_list":["../x"]}'))).toBe(
      'bad_image_name',
    );
    expect(code(decodeDeviceMessage(STATUS, '{"status":"Alive","pendingImg":1,"pending_list":"x"}'))).toBe('bad_field');
    expect(code(decodeDeviceMessage(STATUS, '{"status":"Alive"}'))).toBe('missing_field');
    expect(code(decodeDeviceMessage(STATUS, '{"pendingImg":0}'))).toBe('missing_field');
    expect(code(decodeDeviceMessage(STATUS, '{"status":"Alive","pendingImg":-1}'))).toBe('bad_field');
    expect(code(decodeDeviceMessage(STATUS, '{"status":"Alive","pendingImg":1,"pending_count":2}'))).toBe('bad_field');
  });

  it('telemetry: nested sensors count too', () => {
    expect(message(decodeDeviceMessage(DATA, '{"sensor_data":{"humidity":40}}'))).toEqual({
      kind: 'telemetry',
      device_id: 'B8F862F9C1C4',
      sensor_data: { humidity: 40 },
    });
  });

  it('classification order on /data: chunk_id, then total count, then temperature/humidity', () => {
    expect(message(decodeDeviceMessage(DATA, chunk({ total_chunk_count: 2, temperature: 1 })))).toMatchObject({
      kind: 'chunk',
    });
    expect(message(decodeDeviceMessage(DATA, meta({ temperature: 1 })))).toMatchObject({ kind: 'metadata' });
    expect(code(decodeDeviceMessage(DATA, '{"pressure":1000}'))).toBe('unclassifiable');
    expect(code(decodeDeviceMessage(DATA, '{}'))).toBe('unclassifiable');
  });

  it('server channels, oversized and non-object payloads are rejected', () => {
    expect(code(decodeDeviceMessage('ESP32CAM/B8F862F9C1C4/cmd', '{"capture_image":true}'))).toBe('unknown_topic');
    expect(code(decodeDeviceMessage(DATA, chunk({ payload: 'A'.repeat(70_000) })))).toBe('payload_too_large');
    expect(code(decodeDeviceMessage(DATA, chunk({}), { maxPayloadBytes: 50 }))).toBe('payload_too_large');
    expect(code(decodeDeviceMessage(DATA, new Uint8Array(70_000)))).toBe('payload_too_large');
    expect(code(decodeDeviceMessage(DATA, '[1]'))).toBe('not_object');
    expect(code(decodeDeviceMessage(DATA, '{"constructor":{"chunk_id":1}}'))).toBe('unclassifiable');
  });

  it('accepts bytes as well as text', () => {
    expect(code(decodeDeviceMessage(DATA, new TextEncoder().encode(chunk({}))))).toBe('ok');
  });
});
