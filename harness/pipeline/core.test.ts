// The pure decision core: no sockets, no database (ARCHITECTURE.md §6).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Hello } from '../../simulator/protocol/index.ts';
import {
  ASSEMBLY_ERROR,
  CHUNK_BYTES_MAX,
  decideChunk,
  decideHello,
  decideMetadata,
  defaultNextWakeMs,
  disambiguatedName,
  isSameCapture,
  metadataRecord,
  missingChunkIds,
  storedNameCandidates,
  timestampTag,
  verifyAssembly,
  type ImageFacts,
} from './core/index.ts';
import { meta, row } from './core/test-fixtures.ts';

const hello = (pendingImg: number, pending_list: string[] = []): Hello => ({
  kind: 'hello',
  device_id: 'B8F862F9C1C4',
  status: 'Alive',
  pendingImg,
  pending_list,
});

describe('decideHello', () => {
  test('nothing pending → capture_image; anything pending → send_all_pending, never a capture', () => {
    expect(decideHello(hello(0))).toEqual({ kind: 'capture_image' });
    expect(decideHello(hello(2, ['image_3.jpg', 'image_4.jpg']))).toEqual({ kind: 'send_all_pending' });
    expect(decideHello(hello(0, ['image_3.jpg']))).toEqual({ kind: 'send_all_pending' });
    expect(decideHello(hello(11))).toEqual({ kind: 'send_all_pending' });
  });
});

describe('stored names', () => {
  test('the tag goes before the extension; timestamps compact to digits', () => {
    expect(disambiguatedName('image_1.jpg', '20260114100000')).toBe('image_1~20260114100000.jpg');
    expect(disambiguatedName('image_1', 'x')).toBe('image_1~x');
    expect(timestampTag('2026-01-14T10:00:00Z')).toBe('20260114100000');
    expect(timestampTag('2026-1-4 9:5:7')).toBe('202614957');
    expect(timestampTag('no digits')).toMatch(/^t[0-9a-f]{8}$/);
    expect(timestampTag('no digits')).toBe(timestampTag('no digits'));
  });

  test('candidates: wire name first, all distinct, deterministic', () => {
    const c = storedNameCandidates('image_1.jpg', '2026-01-14T10:00:00Z', 70959);
    expect(c.slice(0, 3)).toEqual(['image_1.jpg', 'image_1~20260114100000.jpg', 'image_1~20260114100000-70959.jpg']);
    expect(new Set(c).size).toBe(c.length);
    expect(storedNameCandidates('image_1.jpg', '2026-01-14T10:00:00Z', 70959)).toEqual(c);
  });
});

const byName = (...rows: ImageFacts[]) => new Map(rows.map((r) => [r.imageName, r]));

describe('decideMetadata', () => {
  test('no row → create under the wire name', () => {
    expect(decideMetadata(meta(), new Map())).toEqual({ kind: 'create', storedName: 'image_3.jpg' });
  });

  test('unfinished row of the same capture → resume it (pending, receiving and failed alike)', () => {
    for (const status of ['pending', 'receiving', 'failed']) {
      const r = row({ status });
      expect(decideMetadata(meta(), byName(r))).toEqual({ kind: 'resume', image: r });
    }
  });

  test('complete row of the same capture → duplicate (whatever total the re-send announces)', () => {
    const r = row({ status: 'complete', receivedChunks: 70 });
    expect(decideMetadata(meta(), byName(r))).toEqual({ kind: 'duplicate', image: r });
    expect(decideMetadata(meta({ max_chunk_size: 2048, total_chunk_count: 35 }), byName(r)).kind).toBe('duplicate');
  });

  test('same capture, different total while unfinished → total_chunks_changed', () => {
    const d = decideMetadata(meta({ max_chunk_size: 2048, total_chunk_count: 35 }), byName(row()));
    expect(d).toMatchObject({ kind: 'reject', code: 'total_chunks_changed' });
  });

  test('another capture under the name (counter reset) → a new row under the disambiguated name', () => {
    const old = row({ status: 'complete', captureTimestamp: '2026-01-01T00:00:00Z' });
    expect(decideMetadata(meta(), byName(old))).toEqual({
      kind: 'create',
      storedName: 'image_3~20260114100000.jpg',
      reused: old,
    });
    // A different size alone is a different capture too.
    const sized = row({ imageSize: 1234 });
    expect(decideMetadata(meta(), byName(sized))).toMatchObject({
      kind: 'create',
      storedName: 'image_3~20260114100000.jpg',
    });
  });

  test('the disambiguated row is found again: resumed, or a duplicate once complete', () => {
    const old = row({ captureTimestamp: '2026-01-01T00:00:00Z', status: 'complete' });
    const mine = row({ imageId: 'id-2', imageName: 'image_3~20260114100000.jpg' });
    expect(decideMetadata(meta(), byName(old, mine))).toEqual({ kind: 'resume', image: mine });
    const done = { ...mine, status: 'complete' };
    expect(decideMetadata(meta(), byName(old, done))).toEqual({ kind: 'duplicate', image: done });
  });

  test('every candidate held by another capture → name_reuse_exhausted', () => {
    const names = storedNameCandidates('image_3.jpg', '2026-01-14T10:00:00Z', 70959);
    const rows = names.map((n, i) => row({ imageId: `x${i}`, imageName: n, imageSize: 1 }));
    expect(decideMetadata(meta(), byName(...rows))).toMatchObject({ kind: 'reject', code: 'name_reuse_exhausted' });
  });

  test('a chunk size no message can carry is refused (and keeps image_size within int4)', () => {
    const m = meta({ image_size: 3_000_000_000, max_chunk_size: 1_000_000, total_chunk_count: 3000 });
    expect(decideMetadata(m, new Map())).toMatchObject({ kind: 'reject', code: 'bad_field' });
    expect(
      decideMetadata(
        meta({ max_chunk_size: CHUNK_BYTES_MAX, image_size: CHUNK_BYTES_MAX * 2, total_chunk_count: 2 }),
        new Map(),
      ).kind,
    ).toBe('create');
  });

  test('a row without a recorded timestamp is the same capture when the size matches', () => {
    expect(isSameCapture(row({ captureTimestamp: null }), meta())).toBe(true);
    expect(isSameCapture(row({ captureTimestamp: null, imageSize: 1 }), meta())).toBe(false);
  });

  test('property: a created name is free, a resumed/duplicated row holds the same capture, the wire name is tried first', () => {
    const ts = fc.constantFrom('2026-01-14T10:00:00Z', '2026-01-15T10:00:00Z', '1970-01-01 0:0:0');
    const size = fc.constantFrom(5000, 6000);
    fc.assert(
      fc.property(
        ts,
        size,
        fc.array(fc.record({ slot: fc.nat(5), ts, size, status: fc.constantFrom('receiving', 'complete', 'failed') }), {
          maxLength: 8,
        }),
        (t, s, existing) => {
          const m = meta({ timestamp: t, image_size: s, max_chunk_size: 1000, total_chunk_count: Math.ceil(s / 1000) });
          const names = storedNameCandidates(m.image_name, '2026-01-14T10:00:00Z', 5000);
          const rows = new Map<string, ImageFacts>();
          for (const [i, e] of existing.entries()) {
            const name = names[e.slot]!;
            rows.set(
              name,
              row({
                imageId: `r${i}`,
                imageName: name,
                captureTimestamp: e.ts,
                imageSize: e.size,
                status: e.status,
                totalChunks: Math.ceil(e.size / 1000),
              }),
            );
          }
          const d = decideMetadata(m, rows);
          if (d.kind === 'create') {
            expect(rows.has(d.storedName)).toBe(false);
            if (d.storedName !== m.image_name) expect(d.reused).toBe(rows.get(m.image_name));
          } else if (d.kind === 'resume' || d.kind === 'duplicate') {
            expect(isSameCapture(d.image, m)).toBe(true);
            expect(d.image.status === 'complete').toBe(d.kind === 'duplicate');
          }
          const wire = rows.get(m.image_name);
          if (wire === undefined) expect(d).toEqual({ kind: 'create', storedName: m.image_name });
        },
      ),
    );
  });
});

describe('metadataRecord', () => {
  test('the decoded message with wire name and timestamp, °F beside °C, time source, stored name when different', () => {
    const m = meta({
      sensor_data: { temperature: 22.5, humidity: 45.1 },
      location: 'office_404',
      error: 0,
      image_id: 3,
    });
    const r = metadataRecord(m, {
      dialect: 'fw350',
      captureTime: { ms: 0, source: 'server_fallback', reason: 'year 1970' },
      storedName: 'image_3~20260114100000.jpg',
    });
    expect(r).toEqual({
      device_id: 'B8F862F9C1C4',
      timestamp: '2026-01-14T10:00:00Z',
      image_name: 'image_3.jpg',
      image_id: 3,
      image_size: 70959,
      max_chunk_size: 1024,
      total_chunk_count: 70,
      location: 'office_404',
      error: 0,
      sensor_data: { temperature: 22.5, humidity: 45.1 },
      temperature_f: 72.5,
      dialect: 'fw350',
      captured_at_source: 'server_fallback',
      captured_at_reason: 'year 1970',
      stored_name: 'image_3~20260114100000.jpg',
    });
    expect(
      metadataRecord(meta(), { dialect: 'spec', captureTime: { ms: 1, source: 'device' }, storedName: 'image_3.jpg' }),
    ).not.toHaveProperty('stored_name');
  });
});

describe('decideChunk', () => {
  const t = { totalChunks: 70, imageSize: 70959, chunkBytes: 1024 };
  test('full chunks, and the remainder for the last', () => {
    expect(decideChunk(t, 0, 1024).kind).toBe('store');
    expect(decideChunk(t, 68, 1024).kind).toBe('store');
    expect(decideChunk(t, 69, 70959 - 69 * 1024).kind).toBe('store');
  });
  test('out of range and wrong lengths are refused with their codes', () => {
    expect(decideChunk(t, 70, 1024)).toMatchObject({ kind: 'reject', code: 'chunk_id_out_of_range' });
    expect(decideChunk(t, 3, 1000)).toMatchObject({ kind: 'reject', code: 'bad_field' });
    expect(decideChunk(t, 69, 1024)).toMatchObject({ kind: 'reject', code: 'bad_field' });
  });
  test('without a known chunk size only the bounds are checked', () => {
    const u = { totalChunks: 3, imageSize: 2500, chunkBytes: null };
    expect(decideChunk(u, 1, 900).kind).toBe('store');
    expect(decideChunk(u, 1, 0).kind).toBe('reject');
    expect(decideChunk(u, 1, 2501).kind).toBe('reject');
  });
});

describe('verifyAssembly', () => {
  const ok = {
    storedChunks: 3,
    maxChunkId: 2,
    totalChunks: 3,
    byteLength: 2500,
    imageSize: 2500,
    headHex: 'ffd8ff',
    tailHex: 'ffd9',
  };
  test('complete, right size, JPEG markers → ok', () => {
    expect(verifyAssembly(ok)).toEqual({ kind: 'ok' });
  });
  test('missing chunks → incomplete, not an error', () => {
    expect(verifyAssembly({ ...ok, storedChunks: 2, maxChunkId: 2 }).kind).toBe('incomplete');
  });
  test('size and markers → invalid with an error code', () => {
    expect(verifyAssembly({ ...ok, byteLength: 2499 })).toMatchObject({
      kind: 'invalid',
      errorCode: ASSEMBLY_ERROR.sizeMismatch,
    });
    expect(verifyAssembly({ ...ok, headHex: '000000' })).toMatchObject({
      kind: 'invalid',
      errorCode: ASSEMBLY_ERROR.noStartOfImage,
    });
    expect(verifyAssembly({ ...ok, tailHex: 'ffd8' })).toMatchObject({
      kind: 'invalid',
      errorCode: ASSEMBLY_ERROR.noEndOfImage,
    });
  });
});

describe('missingChunkIds', () => {
  test('spec IT-02: dropped [4, 9] → [4, 9]', () => {
    const stored = Array.from({ length: 15 }, (_, i) => i).filter((i) => i !== 4 && i !== 9);
    expect(missingChunkIds(15, stored)).toEqual([4, 9]);
  });
  test('capped, ascending, ignores ids outside the range', () => {
    expect(missingChunkIds(500, [], 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(missingChunkIds(3, [-1, 7, 1])).toEqual([0, 2]);
    expect(missingChunkIds(3, [0, 1, 2])).toEqual([]);
  });
});

describe('defaultNextWakeMs', () => {
  test('about 12 h ahead, staggered by MAC within ±1 h, deterministic', () => {
    const now = Date.UTC(2026, 0, 14, 10);
    const macs = Array.from({ length: 200 }, (_, i) => `B8F862${i.toString(16).padStart(6, '0').toUpperCase()}`);
    const wakes = macs.map((m) => defaultNextWakeMs(m, now));
    for (const w of wakes) {
      expect(w - now).toBeGreaterThanOrEqual(11 * 3_600_000);
      expect(w - now).toBeLessThanOrEqual(13 * 3_600_000);
    }
    expect(new Set(wakes).size).toBeGreaterThan(190);
    expect(defaultNextWakeMs(macs[0]!, now)).toBe(wakes[0]);
  });
});
