import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { decodeDeviceMessage } from './decode-device.ts';
import { decodeServerMessage } from './decode-server.ts';
import { encodeDeviceMessage } from './encode-device.ts';
import { encodeServerMessage } from './encode-server.ts';
import type { Dialect } from './messages.ts';
import { baseArb, deviceIdArb, deviceMessageArb, dialectArb, serverMessageArb } from './test-arbitraries.ts';

const DIALECTS: Dialect[] = ['fw350', 'spec'];

describe('device messages: decode(encode(msg)) = msg', () => {
  for (const dialect of DIALECTS) {
    for (const chunkIdBase of [0, 1] as const) {
      test.prop([deviceMessageArb(dialect)], { numRuns: 300 })(`${dialect}, chunk ids ${chunkIdBase}-based`, (msg) => {
        const wire = encodeDeviceMessage(msg, dialect, { chunkIdBase });
        const r = decodeDeviceMessage(wire.topic, wire.payload, { chunkIdBase });
        expect(r).toEqual({
          ok: true,
          value: {
            topic: { dialect, deviceId: msg.device_id, channel: msg.kind === 'hello' ? 'status' : 'data' },
            message: msg,
          },
        });
      });
    }
  }

  test.prop([dialectArb, deviceMessageArb('fw350')])('also from UTF-8 bytes', (dialect, msg) => {
    const fixedStatus =
      msg.kind === 'hello' && msg.status === 'Alive'
        ? { ...msg, status: dialect === 'fw350' ? 'Alive' : 'alive' }
        : msg;
    const wire = encodeDeviceMessage(fixedStatus, dialect);
    const r = decodeDeviceMessage(wire.topic, Buffer.from(wire.payload, 'utf8'));
    expect(r.ok && r.value.message).toEqual(fixedStatus);
  });
});

describe('server messages: decode(encode(msg)) = msg', () => {
  test.prop([dialectArb, baseArb, fc.boolean(), deviceIdArb, serverMessageArb], { numRuns: 300 })(
    'both dialects, both chunk-id bases, with and without device_id',
    (dialect, chunkIdBase, includeDeviceId, deviceId, msg) => {
      const wire = encodeServerMessage(deviceId, msg, dialect, { chunkIdBase, includeDeviceId });
      const r = decodeServerMessage(wire.topic, wire.payload, { chunkIdBase });
      expect(r.ok && r.value.message).toEqual(msg);
      expect(r.ok && r.value.topic.deviceId).toBe(deviceId);
    },
  );
});
