// Test-only: fast-check generators of protocol values. Not part of the codec.

import fc from 'fast-check';
import type {
  AckOk,
  Chunk,
  DeviceMessage,
  Dialect,
  Hello,
  Metadata,
  SensorData,
  ServerMessage,
  Telemetry,
} from './messages.ts';
import { formatWakeTime } from './wake-time.ts';

export const dialectArb: fc.Arbitrary<Dialect> = fc.constantFrom('fw350', 'spec');
export const baseArb: fc.Arbitrary<0 | 1> = fc.constantFrom(0, 1);

export const macArb = fc.stringMatching(/^[0-9A-F]{12}$/);
export const deviceIdArb = fc.oneof(
  { weight: 4, arbitrary: macArb },
  { weight: 1, arbitrary: fc.stringMatching(/^(TEST-|SYSTEM:|VIRTUAL:)[A-Za-z0-9_.:-]{1,20}$/) },
);

export const imageNameArb = fc.oneof(
  fc.nat({ max: 100_000 }).map((n) => `image_${n}.jpg`),
  fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/).filter((s) => !s.includes('..')),
);

/** Finite doubles without -0 (JSON has no -0). */
export const numberArb = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));
/** Any string, including curly quotes and lone surrogates. */
export const textArb = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('“quoted”', 'it’s', '‘x’'));

const sensorsArb: fc.Arbitrary<SensorData> = fc.record(
  { temperature: numberArb, humidity: numberArb, pressure: numberArb, gas_resistance: numberArb },
  { requiredKeys: [] },
);
/** At least one reading (an empty `sensor_data` decodes as absent). */
const someSensorsArb = sensorsArb.filter((s) => Object.keys(s).length > 0);
/** A temperature or a humidity: what makes a data message telemetry. */
const climateSensorsArb = sensorsArb.filter((s) => s.temperature !== undefined || s.humidity !== undefined);

export function helloArb(dialect: Dialect): fc.Arbitrary<Hello> {
  const statusArb = fc.oneof(
    fc.constant(dialect === 'fw350' ? 'Alive' : 'alive'),
    textArb.filter((s) => s.toLowerCase() !== 'alive'),
  );
  return fc.record(
    {
      kind: fc.constant('hello' as const),
      device_id: deviceIdArb,
      status: statusArb,
      pendingImg: fc.nat(),
      pending_list: fc.array(imageNameArb, { maxLength: 10 }),
      firmware_version: textArb,
      hardware_version: textArb,
      battery_voltage: numberArb,
      wifi_rssi: numberArb,
      device_mac: textArb,
    },
    { requiredKeys: ['kind', 'device_id', 'status', 'pendingImg', 'pending_list'] },
  );
}

export const metadataArb: fc.Arbitrary<Metadata> = fc
  .record({ total: fc.integer({ min: 1, max: 10_000 }), chunk: fc.integer({ min: 1, max: 4096 }) })
  .chain(({ total, chunk }) =>
    fc.record(
      {
        kind: fc.constant('metadata' as const),
        device_id: deviceIdArb,
        timestamp: textArb,
        image_name: imageNameArb,
        image_id: fc.nat(),
        image_size: fc.integer({ min: (total - 1) * chunk + 1, max: total * chunk }),
        max_chunk_size: fc.constant(chunk),
        total_chunk_count: fc.constant(total),
        location: textArb,
        error: fc.integer(),
        sensor_data: someSensorsArb,
      },
      {
        requiredKeys: [
          'kind',
          'device_id',
          'timestamp',
          'image_name',
          'image_size',
          'max_chunk_size',
          'total_chunk_count',
        ],
      },
    ),
  );

export const chunkArb: fc.Arbitrary<Chunk> = fc.uint8Array({ minLength: 1, maxLength: 1100 }).chain((payload) =>
  fc.record(
    {
      kind: fc.constant('chunk' as const),
      device_id: deviceIdArb,
      image_name: imageNameArb,
      chunk_id: fc.integer({ min: 0, max: 9_999 }),
      max_chunk_size: fc.integer({ min: payload.byteLength, max: 65_536 }),
      payload: fc.constant(payload),
    },
    { requiredKeys: ['kind', 'device_id', 'image_name', 'chunk_id', 'payload'] },
  ),
);

export const telemetryArb: fc.Arbitrary<Telemetry> = fc.record(
  {
    kind: fc.constant('telemetry' as const),
    device_id: deviceIdArb,
    captured_at: textArb,
    sensor_data: climateSensorsArb,
    battery_voltage: numberArb,
    wifi_rssi: numberArb,
  },
  { requiredKeys: ['kind', 'device_id', 'sensor_data'] },
);

export function deviceMessageArb(dialect: Dialect): fc.Arbitrary<DeviceMessage> {
  return fc.oneof(helloArb(dialect), metadataArb, chunkArb, telemetryArb);
}

export const wakeTimeArb = fc.integer({ min: 0, max: 4_102_444_800_000 }).map(formatWakeTime);

const ackOkArb: fc.Arbitrary<AckOk> = fc.record(
  {
    kind: fc.constant('ack_ok' as const),
    image_name: imageNameArb,
    next_wake_time: wakeTimeArb,
    // The opt-in "ACK names the capture" field: a device's timestamp, padded or not.
    timestamp: fc.constantFrom('2026-01-14T10:00:00Z', '2026-1-4 9:5:7', '1970-01-01T00:00:07Z'),
    image_size: fc.integer({ min: 1, max: 200_000 }),
  },
  { requiredKeys: ['kind'] },
);

export const serverMessageArb: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.constant({ kind: 'capture_image' as const }),
  fc.constant({ kind: 'send_all_pending' as const }),
  fc.record({ kind: fc.constant('send_image' as const), image_name: imageNameArb }),
  fc.record({
    kind: fc.constant('missing_chunks' as const),
    image_name: imageNameArb,
    missing_chunks: fc.array(fc.integer({ min: 0, max: 9_999 }), { maxLength: 50 }),
  }),
  ackOkArb,
  fc.record({ kind: fc.constant('next_wake' as const), next_wake: wakeTimeArb }),
);
