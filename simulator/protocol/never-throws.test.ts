// The decoders never throw, for any topic and any payload: they return ok or a Rejection with a known code.

import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { decodeDeviceMessage } from './decode-device.ts';
import { decodeServerMessage } from './decode-server.ts';
import type { Decoded } from './messages.ts';
import { REJECT_CODES } from './reject.ts';
import { encodeDeviceMessage } from './encode-device.ts';
import { encodeServerMessage } from './encode-server.ts';
import { baseArb, deviceIdArb, deviceMessageArb, dialectArb, serverMessageArb } from './test-arbitraries.ts';

const MAC = 'B8F862F9C1C4';

const KEYS = [
  'device_id',
  'status',
  'pendingImg',
  'pending_count',
  'pending_list',
  'firmware_version',
  'battery_voltage',
  'wifi_rssi',
  'timestamp',
  'capture_timestamp',
  'capture_timeStamp',
  'image_name',
  'image_id',
  'image_size',
  'max_chunks_size',
  'max_chunk_size',
  'total_chunk_count',
  'total_chunks_count',
  'location',
  'error',
  'sensor_data',
  'temperature',
  'humidity',
  'pressure',
  'gas_resistance',
  'captured_at',
  'chunk_id',
  'payload',
  'capture_image',
  'send_image',
  'send_all_pending',
  'missing_chunks',
  'ACK_OK',
  'next_wake',
  'next_wake_time',
  '__proto__',
  'constructor',
  'toString',
];

/** Plausible-looking values of every type, so the property reaches deep into the field checks. */
const valueArb = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    1.5,
    1024,
    70,
    1e308,
    -0,
    'B8F862F9C1C4',
    'image_3.jpg',
    '../x',
    '/9j/',
    '!!',
    '3:00PM',
    'Alive',
    true,
    false,
    null,
    [],
    {},
    [4, 9],
    [256],
  ),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary' }),
);
const objectArb = fc.oneof(
  fc.dictionary(fc.constantFrom(...KEYS), valueArb, { maxKeys: 12 }),
  fc.dictionary(fc.constantFrom(...KEYS), fc.dictionary(fc.constantFrom(...KEYS), valueArb, { maxKeys: 4 }), {
    maxKeys: 4,
  }),
  fc.object(),
);

/** A well-formed message in either direction, then one field set to an arbitrary value or removed. */
const mutatedArb = fc
  .tuple(
    fc.oneof(
      fc
        .tuple(dialectArb, baseArb)
        .chain(([d, base]) => deviceMessageArb(d).map((m) => encodeDeviceMessage(m, d, { chunkIdBase: base }))),
      fc.tuple(dialectArb, deviceIdArb, serverMessageArb).map(([d, id, m]) => encodeServerMessage(id, m, d)),
    ),
    fc.constantFrom(...KEYS),
    fc.option(valueArb, { nil: undefined }),
    fc.boolean(),
  )
  .map(([wire, key, value, inSensors]): [string, string] => {
    const body = JSON.parse(wire.payload) as Record<string, unknown>;
    const nested = body.sensor_data;
    const target =
      inSensors && typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>) : body;
    if (value === undefined) delete target[key];
    else target[key] = value;
    return [wire.topic, JSON.stringify(body)];
  });

const payloadArb = fc.oneof(
  objectArb.map((o) => JSON.stringify(o)),
  objectArb.map((o) => JSON.stringify(o).replace(/"/g, '\u201c')),
  fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
  fc.string({ unit: 'binary' }),
  fc.uint8Array({ maxLength: 300 }),
  objectArb.map((o) => new TextEncoder().encode(JSON.stringify(o))),
);
const topicArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom('ESP32CAM', 'device'), fc.constantFrom('status', 'data', 'cmd', 'ack'))
      .map(([prefix, channel]) => `${prefix}/${MAC}/${channel}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('ESP32CAM', 'device', 'esp32cam', ''),
        fc.oneof(deviceIdArb, fc.string({ unit: 'binary' })),
        fc.constantFrom('status', 'data', 'cmd', 'ack', 'firmware', ''),
      )
      .map((p) => p.join('/')),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
);
/** [topic, payload]: arbitrary pairs, or a mutated well-formed message on its own topic. */
const inputArb: fc.Arbitrary<[string, string | Uint8Array]> = fc.oneof(fc.tuple(topicArb, payloadArb), mutatedArb);
const optsArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        chunkIdBase: fc.constantFrom(0 as const, 1 as const),
        maxPayloadBytes: fc.integer({ min: 0, max: 100_000 }),
        maxTotalChunks: fc.integer({ min: 0, max: 20_000 }),
      },
      { requiredKeys: [] },
    ),
  },
);

function expectOkOrKnownRejection(r: Decoded<unknown>): void {
  if (r.ok) return;
  expect(REJECT_CODES).toContain(r.error.code);
  expect(typeof r.error.reason).toBe('string');
  expect(r.error.reason).not.toMatch(/^internal decoder error/);
}

describe('decoders never throw', () => {
  test.prop([inputArb, optsArb], { numRuns: 3000 })('decodeDeviceMessage', ([topic, payload], opts) => {
    expectOkOrKnownRejection(decodeDeviceMessage(topic, payload, opts));
  });
  test.prop([inputArb, optsArb], { numRuns: 3000 })('decodeServerMessage', ([topic, payload], opts) => {
    expectOkOrKnownRejection(decodeServerMessage(topic, payload, opts));
  });
});
