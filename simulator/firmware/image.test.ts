import { describe, expect, it } from 'vitest';
import {
  IMAGE_BYTES_MIN,
  JPEG_BYTES_MIN,
  chunkAt,
  chunkImage,
  drawImageSizeBytes,
  sha256Hex,
  synthesizeJpeg,
} from './image.ts';
import { mulberry32 } from '../random/prng.ts';
import { concat } from './test-support.ts';

function eoiPositions(bytes: Uint8Array): number[] {
  const at: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) at.push(i);
  return at;
}

describe('synthesizeJpeg', () => {
  it('starts with SOI + JFIF APP0, ends with EOI, has exactly the requested size', () => {
    for (const size of [JPEG_BYTES_MIN, 23, 24, 25, 26, 1023, 1024, 70_959, 100_001]) {
      const bytes = synthesizeJpeg(7, size);
      expect(bytes.length).toBe(size);
      expect(bytes.buffer.byteLength).toBe(size);
      expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xd8, 0xff, 0xe0]);
      expect(new TextDecoder().decode(bytes.subarray(6, 10))).toBe('JFIF');
      expect([...bytes.subarray(size - 2)]).toEqual([0xff, 0xd9]);
    }
  });

  it('has FF D9 only at the very end, for many seeds and sizes', () => {
    const random = mulberry32(42);
    for (let n = 0; n < 300; n++) {
      const size = JPEG_BYTES_MIN + Math.floor(random() * 5000);
      const bytes = synthesizeJpeg(n * 7919, size);
      expect(eoiPositions(bytes)).toEqual([size - 2]);
    }
  });

  it('stuffs every body 0xFF with a following 0x00', () => {
    const bytes = synthesizeJpeg(3, 70_000);
    let ffCount = 0;
    for (let i = 20; i < bytes.length - 2; i++) {
      if (bytes[i] === 0xff) {
        ffCount++;
        expect(bytes[i + 1]).toBe(0x00);
      }
    }
    expect(ffCount).toBeGreaterThan(50); // the body is not trivially FF-free
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = synthesizeJpeg(123, 5000);
    expect(synthesizeJpeg(123, 5000)).toEqual(a);
    expect(sha256Hex(synthesizeJpeg(124, 5000))).not.toBe(sha256Hex(a));
    expect(sha256Hex(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects sizes below the minimum', () => {
    expect(() => synthesizeJpeg(1, JPEG_BYTES_MIN - 1)).toThrow(RangeError);
    expect(() => synthesizeJpeg(1, 100.5)).toThrow(RangeError);
  });

  it('is fast: 500 images of 70 KB', () => {
    const started = performance.now();
    let total = 0;
    for (let i = 0; i < 500; i++) total += synthesizeJpeg(i, 70 * 1024).length;
    const elapsedMs = performance.now() - started;
    expect(total).toBe(500 * 70 * 1024);
    expect(elapsedMs).toBeLessThan(1000); // typically ~50 ms; generous so a loaded CI machine does not flake
  });
});

describe('drawImageSizeBytes', () => {
  it('draws sizes within mean ±30 %, at least 2 KB', () => {
    const random = mulberry32(9);
    for (let i = 0; i < 1000; i++) {
      const size = drawImageSizeBytes(random, 70);
      expect(size).toBeGreaterThanOrEqual(Math.floor(70 * 1024 * 0.7));
      expect(size).toBeLessThanOrEqual(Math.ceil(70 * 1024 * 1.3));
    }
    expect(drawImageSizeBytes(() => 0, 1)).toBe(IMAGE_BYTES_MIN);
    expect(drawImageSizeBytes(() => Number.NaN, 70)).toBe(70 * 1024);
  });
});

describe('chunkImage', () => {
  it('splits into ceil(size / chunkBytes) views that concatenate back to the image', () => {
    const image = synthesizeJpeg(5, 70_959);
    const parts = chunkImage(image, 1024);
    expect(parts).toHaveLength(70);
    expect(parts.slice(0, -1).every((p) => p.length === 1024)).toBe(true);
    expect(parts.at(-1)?.length).toBe(70_959 - 69 * 1024);
    expect(parts.every((p) => p.buffer === image.buffer)).toBe(true); // views, not copies
    expect(sha256Hex(concat(parts))).toBe(sha256Hex(image));
    expect([...(parts[0]?.subarray(0, 3) ?? [])]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('handles exact multiples and rejects a bad chunk size', () => {
    const image = synthesizeJpeg(5, 4096);
    expect(chunkImage(image, 1024).map((p) => p.length)).toEqual([1024, 1024, 1024, 1024]);
    expect(() => chunkImage(image, 0)).toThrow(RangeError);
    expect(chunkAt(image, 1024, 4)).toBeUndefined();
    expect(chunkAt(image, 1024, -1)).toBeUndefined();
    expect(chunkAt(image, 1024, 3)?.length).toBe(1024);
  });
});
