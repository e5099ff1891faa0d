// Chunk bytes on the wire (PROTOCOL.md §3): base64 (firmware) or a JSON array of byte values (PDF, old test tool).

import type { Decoded } from './messages.ts';
import { ok, rejected, show } from './reject.ts';

// Standard alphabet, padded to a multiple of 4; no whitespace, no URL-safe alphabet.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isStrictBase64(text: string): boolean {
  return text.length % 4 === 0 && STRICT_BASE64.test(text);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The bytes of a chunk's `payload` field (non-empty). Never throws. */
export function decodeChunkPayload(value: unknown): Decoded<Uint8Array> {
  if (typeof value === 'string') {
    if (value.length === 0) return rejected('bad_field', 'payload "" is empty');
    if (!isStrictBase64(value)) {
      return rejected('bad_base64', `payload ${show(value, 60)} is not padded standard base64`);
    }
    return ok(new Uint8Array(Buffer.from(value, 'base64')));
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return rejected('bad_field', 'payload [] is empty');
    const bytes = new Uint8Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const b: unknown = value[i];
      if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) {
        return rejected('bad_field', `payload[${i}] ${show(b)} is not a byte (integer 0..255)`);
      }
      bytes[i] = b;
    }
    return ok(bytes);
  }
  return rejected('bad_field', `payload ${show(value, 60)} is neither a base64 string nor an array of bytes`);
}
