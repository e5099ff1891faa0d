import { describe, expect, it } from 'vitest';
import { decodeDeviceMessage } from './decode-device.ts';
import { encodeDeviceMessage } from './encode-device.ts';
import type { Metadata } from './messages.ts';
import { fixture } from './test-fixtures.ts';

function decodedFixture(name: string): ReturnType<typeof decodeDeviceMessage> & { ok: true } {
  const f = fixture('valid', name);
  const r = decodeDeviceMessage(f.topic, f.payload);
  if (!r.ok) throw new Error(r.error.reason);
  return r;
}

describe('encodeDeviceMessage', () => {
  it.each(['hello-fw350', 'metadata-fw350', 'metadata-bad-clock', 'chunk-fw350', 'telemetry-only'])(
    're-encoding fixture %s in fw350 gives back its exact wire text and topic',
    (name) => {
      const f = fixture('valid', name);
      const wire = encodeDeviceMessage(decodedFixture(name).value.message, 'fw350');
      // metadata-bad-clock writes 20.0 where JSON.stringify writes 20: compare it as JSON.
      if (name === 'metadata-bad-clock') expect(JSON.parse(wire.payload)).toEqual(JSON.parse(f.payload));
      else expect(wire.payload).toBe(f.payload);
      expect(wire.topic).toBe(f.topic);
    },
  );

  it('spec metadata uses the spec field names and flat sensors', () => {
    const f = fixture('valid', 'metadata-spec');
    const wire = encodeDeviceMessage(decodedFixture('metadata-spec').value.message, 'spec');
    expect(wire.topic).toBe('device/B8F862F9C1C4/data');
    expect(JSON.parse(wire.payload)).toEqual(JSON.parse(f.payload));
    expect(Object.keys(JSON.parse(wire.payload) as object)).toEqual(Object.keys(JSON.parse(f.payload) as object));
  });

  it('spec hello uses pending_count and "alive"', () => {
    const hello = decodedFixture('hello-fw350').value.message;
    if (hello.kind !== 'hello') throw new Error('hello-fw350 is not a hello');
    const wire = encodeDeviceMessage(hello, 'spec');
    expect(wire.topic).toBe('device/B8F862F9C1C4/status');
    expect(JSON.parse(wire.payload)).toEqual({
      device_id: 'B8F862F9C1C4',
      status: 'alive',
      pending_count: 2,
      pending_list: ['image_3.jpg', 'image_4.jpg'],
    });
    expect(JSON.parse(encodeDeviceMessage({ ...hello, status: 'alive' }, 'fw350').payload)).toMatchObject({
      status: 'Alive',
    });
  });

  it('fw350 metadata field names', () => {
    const m: Metadata = {
      kind: 'metadata',
      device_id: 'B8F862F9C1C4',
      timestamp: 't',
      image_name: 'image_1.jpg',
      image_size: 10,
      max_chunk_size: 5,
      total_chunk_count: 2,
    };
    expect(Object.keys(JSON.parse(encodeDeviceMessage(m, 'fw350').payload) as object)).toEqual([
      'device_id',
      'timestamp',
      'image_name',
      'image_size',
      'max_chunks_size',
      'total_chunk_count',
    ]);
  });

  it('chunks: 1-based ids on the wire when asked, base64 payload', () => {
    const c = decodedFixture('chunk-fw350').value.message;
    expect(JSON.parse(encodeDeviceMessage(c, 'spec', { chunkIdBase: 1 }).payload)).toEqual({
      device_id: 'B8F862F9C1C4',
      image_name: 'image_3.jpg',
      chunk_id: 1,
      max_chunk_size: 1024,
      payload: '/9j/4AAQSkZJRgABAQAAAQABAAD/',
    });
  });

  it('encodes 35,000 1 KiB chunks quickly', () => {
    const payload = new Uint8Array(1024).map((_, i) => i & 255);
    const started = performance.now();
    let bytes = 0;
    for (let i = 0; i < 35_000; i++) {
      bytes += encodeDeviceMessage(
        {
          kind: 'chunk',
          device_id: 'B8F862F9C1C4',
          image_name: 'image_3.jpg',
          chunk_id: i % 70,
          max_chunk_size: 1024,
          payload,
        },
        'fw350',
      ).payload.length;
    }
    expect(bytes).toBeGreaterThan(35_000 * 1368);
    expect(performance.now() - started).toBeLessThan(5_000); // typically ~100 ms; generous for slow CI
  });
});
