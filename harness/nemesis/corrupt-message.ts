// The corrupt-message fault (ARCHITECTURE.md §4, device side): besides a real transfer, the device publishes one
// malformed message of a kind drawn from the seed. Pure: builds the wire message from the transfer's metadata, and
// names the rejection code the protocol's decoder gives it, which the checker's I9 looks for in rejected_messages.
// None of them can touch the stored image: the decoder refuses each before it reaches any image (PROTOCOL.md §3).
import {
  encodeDeviceMessage,
  type Dialect,
  type Metadata,
  type RejectCode,
  type WireMessage,
} from '../../simulator/protocol/index.ts';

export const corruptKinds = ['bad_base64', 'truncated_json', 'mac_mismatch'] as const;
export type CorruptKind = (typeof corruptKinds)[number];

/** What the decoder (simulator/protocol/decode-device.ts) refuses each kind with. */
export const corruptExpectedCode: Readonly<Record<CorruptKind, RejectCode>> = {
  bad_base64: 'bad_base64',
  truncated_json: 'not_json',
  mac_mismatch: 'device_id_mismatch',
};

export interface CorruptMessage extends WireMessage {
  readonly kind: CorruptKind;
  readonly expectedCode: RejectCode;
}

/** Not base64: `%` and `*` are outside its alphabet. */
const NOT_BASE64 = '%%not*base64%%';

/**
 * The malformed message of `kind` for the transfer that `metadata` starts, on the device's own data topic:
 * - bad_base64: chunk 0 of the image whose payload is not base64 (the real chunk 0 is sent as well);
 * - truncated_json: the first half of the metadata message (a cut-off publish);
 * - mac_mismatch: the metadata with a device_id that is not the topic's (another device's MAC).
 */
export function corruptMessage(
  kind: CorruptKind,
  metadata: Metadata,
  dialect: Dialect,
  opts: { readonly chunkIdBase?: 0 | 1 } = {},
): CorruptMessage {
  const real = encodeDeviceMessage(metadata, dialect);
  const expectedCode = corruptExpectedCode[kind];
  switch (kind) {
    case 'bad_base64': {
      const chunk = encodeDeviceMessage(
        {
          kind: 'chunk',
          device_id: metadata.device_id,
          image_name: metadata.image_name,
          chunk_id: 0,
          max_chunk_size: metadata.max_chunk_size,
          payload: new Uint8Array([0xff, 0xd8, 0xff]),
        },
        dialect,
        { chunkIdBase: opts.chunkIdBase ?? 0 },
      );
      const body = JSON.parse(chunk.payload) as Record<string, unknown>;
      return { kind, expectedCode, topic: chunk.topic, payload: JSON.stringify({ ...body, payload: NOT_BASE64 }) };
    }
    case 'truncated_json':
      return {
        kind,
        expectedCode,
        topic: real.topic,
        payload: real.payload.slice(0, Math.floor(real.payload.length / 2)),
      };
    case 'mac_mismatch': {
      const other = encodeDeviceMessage({ ...metadata, device_id: otherMac(metadata.device_id) }, dialect);
      return { kind, expectedCode, topic: real.topic, payload: other.payload };
    }
  }
}

/** Another valid MAC: the last hex digit changed. */
export function otherMac(mac: string): string {
  const last = mac.slice(-1).toUpperCase();
  return `${mac.slice(0, -1)}${last === '0' ? '1' : '0'}`;
}
