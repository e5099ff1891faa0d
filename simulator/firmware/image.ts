// Synthetic JPEG images: deterministic per seed, with the markers the pipeline and checker look at
// (PROTOCOL.md §1: chunk 0 starts `FF D8 FF`, the assembled image ends `FF D9`; ARCHITECTURE.md §3 I3).
import { createHash } from 'node:crypto';
import { mixSeed } from '../random/prng.ts';

/** SOI + a JFIF APP0 segment (length 16, version 1.1, no density units, 1:1, no thumbnail). */
const JFIF_HEADER: readonly number[] = [
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
  0x00,
];
const HEADER_BYTES = JFIF_HEADER.length; // 20, a multiple of 4 so the body starts on a word boundary
const EOI_BYTES = 2;
/** The smallest image synthesizeJpeg can make: header + EOI, no body. */
export const JPEG_BYTES_MIN = HEADER_BYTES + EOI_BYTES;
/** Smallest drawn image size; real images are 20–100 KB (PROTOCOL.md §1). */
export const IMAGE_BYTES_MIN = 2 * 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Deterministic JPEG-looking bytes of exactly `sizeBytes`: SOI + JFIF APP0, a seeded xorshift32 body, EOI.
 * Every 0xFF in the body is followed by 0x00 (JPEG byte stuffing), so `FF D9` occurs only as the final two
 * bytes: "EOI present only at the end" is a valid integrity check. Throws RangeError below JPEG_BYTES_MIN.
 */
export function synthesizeJpeg(seed: number, sizeBytes: number): Uint8Array {
  if (!Number.isInteger(sizeBytes) || sizeBytes < JPEG_BYTES_MIN) {
    throw new RangeError(`synthesizeJpeg: sizeBytes must be an integer >= ${JPEG_BYTES_MIN}, got ${sizeBytes}`);
  }
  // Not zero-filled (never pooled, so byteOffset 0 and its own ArrayBuffer): every byte is written below.
  const raw = Buffer.allocUnsafeSlow(sizeBytes);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, sizeBytes);
  const wordCount = sizeBytes >>> 2;
  const words = new Int32Array(raw.buffer, raw.byteOffset, wordCount);
  let x = mixSeed(seed, 0x4a504547) | 0 || 0x2545f491; // xorshift32 state must be non-zero
  let carry = 0; // 0xff when the previous byte was 0xFF: this one must become 0x00
  // One pass: draw a word, byte-stuff it in registers (bytes in little-endian order), store it.
  for (let k = HEADER_BYTES >>> 2; k < wordCount; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    let w = x & ~carry;
    carry = 0;
    const v = ~w;
    if (((v - 0x01010101) & ~v & 0x80808080) !== 0) {
      // Rare (~1.6 % of words): some byte is 0xFF. Zero the byte after each 0xFF.
      if ((w & 0xff) === 0xff) w &= ~0xff00;
      if ((w & 0xff00) === 0xff00) w &= ~0xff0000;
      if ((w & 0xff0000) === 0xff0000) w &= 0x00ffffff;
      if (w >>> 24 === 0xff) carry = 0xff;
    }
    words[k] = w;
  }
  if (!LITTLE_ENDIAN) {
    // Same bytes on every platform: the loop above laid words out little-endian.
    for (let k = HEADER_BYTES >>> 2; k < wordCount; k++) {
      const w = words[k] ?? 0;
      words[k] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
    }
  }
  for (let i = Math.max(wordCount << 2, HEADER_BYTES); i < sizeBytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const b = x & 0xff & ~carry;
    bytes[i] = b;
    carry = b === 0xff ? 0xff : 0;
  }
  // A 0xFF right before the EOI would be unstuffed: drop it. Bytes from here on are overwritten by the EOI.
  if (sizeBytes > JPEG_BYTES_MIN && bytes[sizeBytes - 3] === 0xff) bytes[sizeBytes - 3] = 0x00;
  bytes.set(JFIF_HEADER, 0);
  bytes[sizeBytes - 2] = 0xff;
  bytes[sizeBytes - 1] = 0xd9;
  return bytes;
}

/** An image size around the mean (±30 %, uniform), at least IMAGE_BYTES_MIN. `random` yields [0, 1). */
export function drawImageSizeBytes(random: () => number, meanKb: number): number {
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0.5;
  const size = Math.round(meanKb * 1024 * (0.7 + 0.6 * unit));
  return Number.isFinite(size) ? Math.max(IMAGE_BYTES_MIN, size) : IMAGE_BYTES_MIN;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** N = ceil(size / chunkBytes) (PROTOCOL.md §3). */
export function chunkCount(sizeBytes: number, chunkBytes: number): number {
  return Math.ceil(sizeBytes / chunkBytes);
}

/** Chunk `id` (0-based) as a view into `bytes` (no copy); undefined when out of range. */
export function chunkAt(bytes: Uint8Array, chunkBytes: number, id: number): Uint8Array | undefined {
  if (!Number.isInteger(id) || id < 0 || id >= chunkCount(bytes.length, chunkBytes)) return undefined;
  const start = id * chunkBytes;
  return bytes.subarray(start, Math.min(start + chunkBytes, bytes.length));
}

/** All chunks as views into `bytes`, the last one shorter. Throws RangeError unless chunkBytes is a positive int. */
export function chunkImage(bytes: Uint8Array, chunkBytes: number): Uint8Array[] {
  if (!Number.isInteger(chunkBytes) || chunkBytes <= 0) {
    throw new RangeError(`chunkImage: chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += chunkBytes) {
    chunks.push(bytes.subarray(start, Math.min(start + chunkBytes, bytes.length)));
  }
  return chunks;
}
