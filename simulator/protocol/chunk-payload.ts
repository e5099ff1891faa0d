// Chunk bytes on the wire (PROTOCOL.md §3): base64 (firmware) or a JSON array of byte values (PDF, old test tool).

import type { Decoded } from './messages.ts';
import { ok, rejected, show } from './reject.ts';

// Standard alphabet, padded to a multiple of 4; no whitespace, no URL-safe alphabet. The same language as
// /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, checked by a loop over a table: every chunk
// of every run passes here, and the regular expression was the codec's largest cost (about 14 µs a 1 KB chunk).
const IN_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') IN_ALPHABET[c.charCodeAt(0)] = 1;
const PAD = 61; // '='

export function isStrictBase64(text: string): boolean {
  const n = text.length;
  if (n % 4 !== 0) return false;
  if (n === 0) return true;
  // Up to two '=' at the very end, and only there.
  const padding = text.charCodeAt(n - 1) !== PAD ? 0 : text.charCodeAt(n - 2) === PAD ? 2 : 1;
  const end = n - padding;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || IN_ALPHABET[c] !== 1) return false;
  }
  return true;
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
