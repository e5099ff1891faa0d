import { describe, expect, test } from 'vitest';
import { decodeDeviceMessage, type Dialect, type Metadata } from '../../simulator/protocol/index.ts';
import { corruptKinds, corruptMessage, otherMac } from './corrupt-message.ts';

const metadata: Metadata = {
  kind: 'metadata',
  device_id: 'B8F862F9C1C4',
  timestamp: '2026-01-14T10:00:00Z',
  image_name: 'image_3.jpg',
  image_size: 70_959,
  max_chunk_size: 1024,
  total_chunk_count: 70,
  error: 0,
};

describe('corrupt messages', () => {
  for (const dialect of ['fw350', 'spec'] as const satisfies readonly Dialect[]) {
    for (const kind of corruptKinds) {
      test(`${dialect} ${kind}: on the device's data topic, refused by the decoder with its expected code`, () => {
        const m = corruptMessage(kind, metadata, dialect, { chunkIdBase: dialect === 'spec' ? 1 : 0 });
        expect(m.topic).toBe(dialect === 'fw350' ? 'ESP32CAM/B8F862F9C1C4/data' : 'device/B8F862F9C1C4/data');
        const decoded = decodeDeviceMessage(m.topic, m.payload, { chunkIdBase: dialect === 'spec' ? 1 : 0 });
        expect(decoded.ok).toBe(false);
        if (!decoded.ok) expect(decoded.error.code).toBe(m.expectedCode);
      });
    }
  }

  test('another MAC differs and is still 12 hex digits', () => {
    expect(otherMac('B8F862F9C1C4')).toBe('B8F862F9C1C0');
    expect(otherMac('B8F862F9C1C0')).toBe('B8F862F9C1C1');
  });
});
