// Issue 9, property suite 3: the cleanup and resume migrations applied while transfers are in flight, for ANY
// generated base-stage table (schema 001 + camfleet's pipeline tables 004, as the legacy profiles run on it).
//
// Generated: 1–3 devices, 1–3 image names each, per name a duplicate group of 1–4 device_images rows — statuses
// within the base CHECK (complete/receiving/pending/failed), updated_at and captured_at drawn from two instants
// so that ties are common, updated_at and received_chunks NULL now and then (both columns allow it; captured_at is
// NOT NULL in 001_base.sql, so it never is). Some groups are a transfer in flight: a capture (synthetic JPEG, 16-byte
// chunks) whose rows are unfinished copies (receiving/pending/failed) of the same capture, each holding some of its
// chunks in the pipeline's durable chunk store (image_chunks) as the legacy service left them (received_chunks =
// what the row stored, 0 after the original's reset, or NULL), one of them routed in image_transfers, and chunks
// still to come from the device.
//
// Then the shipped files are applied as `migrateOnAdminPool` applies them (harness/run/mid-run-migration.ts):
// 002_cleanup.sql, 003_resume.sql. Every in-flight transfer then completes through the `fixed` pipeline's own
// database path — the core's decision (decideMetadata, openRequestFor, judgeOpened) and the store's statements
// (findImagesMany, openTransfers → fn_wake_ingestion_handler, writeChunks, storedChunkIds + missingChunkIds for the
// missing_chunks round, completeImages) on real Postgres, nothing mocked.
//
// Asserted: every in-flight transfer ends complete in the row the cleanup kept, its stored blob the capture's bytes
// and received_chunks = total_chunks; no two rows share (device_id, image_name); every group still has exactly one
// row and a group that had a complete row still has one; rows of groups not in flight are untouched; the backup
// holds exactly the deleted rows, column for column; and the kept row is one an INDEPENDENT ranking (below, not the
// checker's cleanup-ranking.ts) accepts. A last test runs the same property against the cleanup with its
// `updated_at DESC` flipped (string-replaced in the shipped SQL) and shows the property fails.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { keptImageIds, type RankableImage } from '../harness/checker/cleanup-ranking.ts';
import { decideMetadata } from '../harness/pipeline/core/metadata.ts';
import { missingChunkIds } from '../harness/pipeline/core/missing.ts';
import { storedNameCandidates } from '../harness/pipeline/core/names.ts';
import { judgeOpened, openRequestFor } from '../harness/pipeline/core/open.ts';
import { storedChunkIds, writeChunks } from '../harness/pipeline/store/chunks.ts';
import { completeImages } from '../harness/pipeline/store/completion.ts';
import { findImagesMany, openTransfers } from '../harness/pipeline/store/images.ts';
import { createPgDatabase } from '../harness/world/live/pg-database.ts';
import type { Database } from '../harness/world/sql.ts';
import { chunkImage, sha256Hex, synthesizeJpeg } from '../simulator/firmware/image.ts';
import type { Metadata } from '../simulator/protocol/index.ts';
import { primaryTarget, scratchDatabase } from '../test/databases.ts';
import { propertyParams } from '../test/property-runs.ts';
import { resetToStage, stepFor } from '../test/schema-fixture.ts';
import { applyStep } from './runner.ts';
import { readStepSql } from './steps.ts';

// ---- the generated table -------------------------------------------------------------------------------------------

const CHUNK_BYTES = 16;
const CAPTURE_TS = '2026-01-14T10:00:00Z';
const INSTANTS = [Date.UTC(2026, 0, 14, 10), Date.UTC(2026, 0, 15)];
const CREATED_AT = new Date(Date.UTC(2026, 0, 14, 9));

interface GenRow {
  /** Orders image_id (the shipped SQL's last tiebreak) at random; the row's index keeps ids unique. */
  readonly idKey: number;
  readonly status: 'complete' | 'receiving' | 'pending' | 'failed';
  readonly updatedAt: number | null;
  readonly capturedAt: number;
  /** Groups not in flight: received_chunks as drawn (NULL allowed). */
  readonly received: number | null;
  readonly total: number;
  readonly retry: number;
  readonly error: number;
  /** In flight: the chunk ids this row holds in image_chunks, and what the legacy service left in received_chunks. */
  readonly stored: readonly number[];
  /**
   * Never MORE than the row stored in image_chunks: a count of chunks held elsewhere (legacy-memory-chunks, the
   * original's edge_chunk_buffer) ends complete with received_chunks above total_chunks after the fixed pipeline
   * stores them all again (writeChunks adds what it inserted, completeImages keeps the greater of count and total) —
   * a finding of its own (issue 9 report), not this property's subject.
   */
  readonly receivedMode: 'stored' | 'reset' | 'null';
  /** In flight: metadata carries the capture's timestamp (else NULL metadata: judged by size alone). */
  readonly hasTimestamp: boolean;
  /** Copies every ranking field of the group's first row (a double send stored twice): ties on all four keys. */
  readonly twin: boolean;
}

interface GenGroup {
  readonly inFlight: boolean;
  /** In flight: the capture's size (≥ 22, the smallest synthetic JPEG) and so its chunk count. */
  readonly imageSize: number;
  readonly rows: readonly GenRow[];
  /** In flight: the row routed in image_transfers (index into rows, modulo). */
  readonly routedRow: number;
  /** In flight: chunks the device sends after the migration, in this order (re-sends of stored ones included). */
  readonly toCome: readonly number[];
}

type GenTable = readonly (readonly GenGroup[])[]; // device → its image names' groups

const rowArb = (inFlight: boolean, total: number): fc.Arbitrary<GenRow> =>
  fc.record({
    idKey: fc.integer({ min: 0, max: 0xffff }),
    status: inFlight
      ? fc.constantFrom('receiving' as const, 'pending' as const, 'failed' as const)
      : fc.constantFrom('complete' as const, 'receiving' as const, 'pending' as const, 'failed' as const),
    updatedAt: fc.option(fc.constantFrom(...INSTANTS), { freq: 3 }),
    capturedAt: fc.constantFrom(...INSTANTS),
    received: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 3 }),
    total: fc.constant(total),
    retry: fc.integer({ min: 0, max: 2 }),
    error: fc.integer({ min: 0, max: 1 }),
    stored: inFlight ? fc.subarray([...Array(total).keys()]) : fc.constant([]),
    receivedMode: fc.constantFrom('stored' as const, 'stored' as const, 'reset' as const, 'null' as const),
    hasTimestamp: fc.boolean(),
    twin: fc.boolean(),
  });

/** A twin takes the first row's status, times and progress (its id stays its own). */
const withTwins = (rows: readonly GenRow[]): GenRow[] =>
  rows.map((row, i) => {
    const first = rows[0]!;
    if (i === 0 || !row.twin) return row;
    const { status, updatedAt, capturedAt, received, stored, receivedMode } = first;
    return { ...row, status, updatedAt, capturedAt, received, stored, receivedMode };
  });

const groupArb: fc.Arbitrary<GenGroup> = fc
  .record({
    inFlight: fc.boolean(),
    imageSize: fc.integer({ min: 22, max: 70 }),
    total: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ inFlight, imageSize, total }) => {
    const chunks = inFlight ? Math.ceil(imageSize / CHUNK_BYTES) : total;
    return fc.record({
      inFlight: fc.constant(inFlight),
      imageSize: fc.constant(imageSize),
      rows: fc.array(rowArb(inFlight, chunks), { minLength: 1, maxLength: 4 }).map(withTwins),
      routedRow: fc.nat(3),
      toCome: inFlight ? fc.shuffledSubarray([...Array(chunks).keys()]) : fc.constant([]),
    });
  });

const tableArb: fc.Arbitrary<GenTable> = fc.array(fc.array(groupArb, { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 3,
});

const deviceIdOf = (d: number) => `d0000000-0000-4000-8000-00000000000${d}`;
const macOf = (d: number) => `B8F862F9C1C${d}`;
const nameOf = (n: number) => `image_${n + 1}.jpg`;
const hex4 = (n: number) => n.toString(16).padStart(4, '0');
/** The capture of group (d, n): its bytes are a function of where it is, so a wrong row's chunks would show. */
const imageOf = (d: number, n: number, size: number) => synthesizeJpeg(d * 16 + n + 1, size);

interface Planted {
  readonly deviceId: string;
  readonly imageName: string;
  readonly group: GenGroup;
  readonly imageIds: readonly string[];
  readonly bytes: Uint8Array | undefined;
}

/** Writes the generated table: devices, device_images, image_chunks, image_transfers. */
async function plant(client: pg.ClientBase, table: GenTable): Promise<Planted[]> {
  const planted: Planted[] = [];
  const images: Record<string, unknown>[] = [];
  const chunkRows: { image_id: string; chunk_id: number; bytes: Uint8Array }[] = [];
  const routes: Record<string, unknown>[] = [];
  let rowIndex = 0;
  for (const [d, groups] of table.entries()) {
    await client.query(`INSERT INTO devices (device_id, device_mac, device_code) VALUES ($1, $2, $3)`, [
      deviceIdOf(d),
      macOf(d),
      `DEVICE-ESP32S3-00${d + 1}`,
    ]);
    for (const [n, group] of groups.entries()) {
      const bytes = group.inFlight ? imageOf(d, n, group.imageSize) : undefined;
      const chunks = bytes === undefined ? [] : chunkImage(bytes, CHUNK_BYTES);
      const ids: string[] = [];
      for (const row of group.rows) {
        const imageId = `${hex4(row.idKey)}${hex4(rowIndex++)}-0000-4000-8000-000000000000`;
        ids.push(imageId);
        const received = !group.inFlight
          ? row.received
          : row.receivedMode === 'stored'
            ? row.stored.length
            : row.receivedMode === 'reset'
              ? 0
              : null;
        images.push({
          image_id: imageId,
          device_id: deviceIdOf(d),
          image_name: nameOf(n),
          image_url: row.status === 'complete' ? `legacy/${imageId}` : null,
          image_size: group.inFlight ? group.imageSize : row.total * 1000,
          captured_at: new Date(row.capturedAt).toISOString(),
          received_at: row.status === 'complete' ? new Date(row.capturedAt).toISOString() : null,
          total_chunks: row.total,
          received_chunks: received,
          status: row.status,
          error_code: row.error,
          retry_count: row.retry,
          metadata:
            group.inFlight && row.hasTimestamp
              ? {
                  timestamp: CAPTURE_TS,
                  image_name: nameOf(n),
                  image_size: group.imageSize,
                  total_chunk_count: row.total,
                }
              : null,
          created_at: CREATED_AT.toISOString(),
          updated_at: row.updatedAt === null ? null : new Date(row.updatedAt).toISOString(),
        });
        for (const c of row.stored) chunkRows.push({ image_id: imageId, chunk_id: c, bytes: chunks[c]! });
      }
      if (group.inFlight) {
        const routed = ids[group.routedRow % ids.length]!;
        routes.push({
          device_id: deviceIdOf(d),
          wire_name: nameOf(n),
          image_id: routed,
          capture_timestamp: CAPTURE_TS,
          image_size: group.imageSize,
          total_chunks: chunks.length,
        });
      }
      planted.push({ deviceId: deviceIdOf(d), imageName: nameOf(n), group, imageIds: ids, bytes });
    }
  }
  await client.query(
    `INSERT INTO device_images (image_id, device_id, image_name, image_url, image_size, captured_at, received_at,
                                total_chunks, received_chunks, status, error_code, retry_count, metadata, created_at,
                                updated_at)
     SELECT image_id, device_id, image_name, image_url, image_size, captured_at, received_at, total_chunks,
            received_chunks, status, error_code, retry_count, metadata, created_at, updated_at
     FROM jsonb_to_recordset($1::jsonb) AS r(image_id uuid, device_id uuid, image_name text, image_url text,
          image_size int, captured_at timestamptz, received_at timestamptz, total_chunks int, received_chunks int,
          status text, error_code int, retry_count int, metadata jsonb, created_at timestamptz, updated_at timestamptz)`,
    [JSON.stringify(images)],
  );
  if (chunkRows.length > 0) {
    await client.query(
      `INSERT INTO image_chunks (image_id, chunk_id, bytes)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::bytea[])`,
      [chunkRows.map((c) => c.image_id), chunkRows.map((c) => c.chunk_id), chunkRows.map((c) => Buffer.from(c.bytes))],
    );
  }
  if (routes.length > 0) {
    await client.query(
      `INSERT INTO image_transfers (device_id, wire_name, image_id, capture_timestamp, image_size, total_chunks)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(device_id uuid, wire_name text, image_id uuid,
                                                         capture_timestamp text, image_size int, total_chunks int)`,
      [JSON.stringify(routes)],
    );
  }
  return planted;
}

// ---- the independent oracle ----------------------------------------------------------------------------------------

type Row = Record<string, unknown>;
const imageColumns =
  'image_id, device_id, company_id, program_id, site_id, image_name, image_url, image_size, captured_at, ' +
  'received_at, total_chunks, received_chunks, status, error_code, retry_count, metadata, created_at, updated_at';

const STATUS_RANK: Readonly<Record<string, number>> = { complete: 1, receiving: 2, pending: 3, failed: 4 };

/**
 * The cleanup's ranking as a sort key, compared element by element (smaller is better): status rank (complete 1,
 * receiving 2, pending 3, failed 4, anything else 5), then updated_at, received_chunks, captured_at, each "highest
 * first" — and a NULL after every value: an unknown time is not "the most recent", an unknown count not "the
 * highest". That is what the shipped 002_cleanup.sql says (`DESC NULLS LAST`) and the seed's intent; NOT what the
 * seed's literal SQL does: a bare `DESC` in Postgres puts NULLs FIRST, so the seed's preview query ranks a row with
 * NULL updated_at above every dated one (see the last test of this file).
 */
function rankKey(row: Row): number[] {
  const desc = (v: unknown): [number, number] => {
    if (v === null || v === undefined) return [1, 0];
    return [0, -(v instanceof Date ? v.getTime() : Number(v))];
  };
  return [
    STATUS_RANK[String(row.status)] ?? 5,
    ...desc(row.updated_at),
    ...desc(row.received_chunks),
    ...desc(row.captured_at),
  ];
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/**
 * The image_ids the cleanup may keep for one group: every row whose key equals the best key. Where rows tie on all
 * four keys, the seed leaves the choice open (ROW_NUMBER over equal keys is arbitrary), so the property accepts any
 * of them; the shipped SQL breaks the tie on image_id, which is its own choice, not part of the spec.
 */
function acceptableKeeps(group: readonly Row[]): Set<string> {
  const keyed = group.map((row) => ({ id: String(row.image_id), key: rankKey(row) }));
  const best = keyed.reduce((a, b) => (compareKeys(b.key, a.key) < 0 ? b : a));
  return new Set(keyed.filter((k) => compareKeys(k.key, best.key) === 0).map((k) => k.id));
}

const groupKey = (row: Row) => `${String(row.device_id)}|${String(row.image_name)}`;

function groupsOf(rows: readonly Row[]): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) groups.set(groupKey(row), [...(groups.get(groupKey(row)) ?? []), row]);
  return groups;
}

// ---- the pipeline's path after the migration -----------------------------------------------------------------------

/** The device re-sends the capture's metadata, then its remaining chunks, then what missing_chunks asks for; the
 *  `fixed` pipeline's core decides and its store writes; finally the completion. Returns the completed row's id. */
async function completeTransfer(db: Database, p: Planted, mac: string): Promise<string> {
  const bytes = p.bytes!;
  const chunks = chunkImage(bytes, CHUNK_BYTES);
  const meta: Metadata = {
    kind: 'metadata',
    device_id: mac,
    timestamp: CAPTURE_TS,
    image_name: p.imageName,
    image_size: bytes.length,
    max_chunk_size: CHUNK_BYTES,
    total_chunk_count: chunks.length,
  };
  const rows = await findImagesMany(db, [
    { deviceId: p.deviceId, names: storedNameCandidates(p.imageName, CAPTURE_TS, bytes.length) },
  ]);
  const decision = decideMetadata(meta, rows[0] ?? new Map());
  expect(decision.kind, `${p.imageName}: metadata after the migration`).toBe('resume');
  if (decision.kind !== 'resume') throw new Error('unreachable');
  const request = openRequestFor(meta, decision, { deviceId: p.deviceId, dialect: 'fw350', nowMs: INSTANTS[1]! });
  const [opened] = await openTransfers(db, [request]);
  const verdict = judgeOpened(request.storedName, opened!);
  expect(verdict.kind, JSON.stringify(opened)).toBe('receiving');
  if (verdict.kind !== 'receiving') throw new Error('unreachable');
  const imageId = verdict.imageId;
  const send = (ids: readonly number[]) =>
    ids.length === 0
      ? Promise.resolve([])
      : writeChunks(db, { imageIds: ids.map(() => imageId), chunkIds: ids, payloads: ids.map((i) => chunks[i]!) });
  await send(p.group.toCome);
  const stored = (await storedChunkIds(db, [imageId])).get(imageId) ?? [];
  await send(missingChunkIds(chunks.length, stored));
  const [outcome] = await completeImages(db, [{ imageId, nextWakeAtIso: null }]);
  expect(outcome, `${p.imageName} completion`).toMatchObject({ kind: 'completed', sha256: sha256Hex(bytes) });
  return imageId;
}

// ---- the property --------------------------------------------------------------------------------------------------

const SHIPPED_CLEANUP = readStepSql(stepFor('cleanup'));
/** Deliberately broken: the newest row loses instead of winning. */
const FLIPPED_CLEANUP = SHIPPED_CLEANUP.replace('di.updated_at DESC NULLS LAST', 'di.updated_at ASC NULLS LAST');
/** The seed's ORDER BY taken literally: a bare DESC, under which Postgres ranks NULLs first. */
const SEED_LITERAL_CLEANUP = SHIPPED_CLEANUP.replaceAll(' DESC NULLS LAST', ' DESC');

async function rowsOf(client: pg.ClientBase, sql: string): Promise<Row[]> {
  return (await client.query(sql)).rows as Row[];
}

function midRunProperty(admin: pg.ClientBase, db: Database, cleanupSql: string) {
  return fc.asyncProperty(tableArb, async (table) => {
    // The base stage plus camfleet's pipeline tables: where the legacy profiles ran (harness/pipeline/README.md).
    await resetToStage(admin, 'base');
    await applyStep(admin, stepFor('pipeline'));
    const planted = await plant(admin, table);
    const before = await rowsOf(admin, `SELECT ${imageColumns} FROM device_images ORDER BY image_id`);

    // The migration, as migrateOnAdminPool applies it: the cleanup file, then the resume file.
    await admin.query(cleanupSql);
    await applyStep(admin, stepFor('resume'));

    // The transfers in flight go on, now through the fixed pipeline's database path.
    const completedIds = new Map<string, string>();
    for (const [d] of table.entries()) {
      for (const p of planted.filter((x) => x.deviceId === deviceIdOf(d) && x.group.inFlight)) {
        completedIds.set(`${p.deviceId}|${p.imageName}`, await completeTransfer(db, p, macOf(d)));
      }
    }

    const after = await rowsOf(admin, `SELECT ${imageColumns} FROM device_images ORDER BY image_id`);
    const backup = await rowsOf(admin, `SELECT ${imageColumns} FROM device_images_duplicates_backup ORDER BY image_id`);

    // Nothing duplicated, nothing lost: exactly one row per group, the same groups.
    const beforeGroups = groupsOf(before);
    const afterGroups = groupsOf(after);
    expect([...afterGroups.keys()].sort()).toEqual([...beforeGroups.keys()].sort());
    for (const [key, rows] of afterGroups) expect(rows, key).toHaveLength(1);

    // The backup holds exactly the deleted rows, every column as it was.
    const afterIds = new Set(after.map((r) => String(r.image_id)));
    expect(backup).toEqual(before.filter((r) => !afterIds.has(String(r.image_id))));

    const beforeById = new Map(before.map((r) => [String(r.image_id), r]));
    for (const [key, group] of beforeGroups) {
      const kept = afterGroups.get(key)![0]!;
      const keptId = String(kept.image_id);
      // The kept row is one the independent ranking accepts…
      const acceptable = acceptableKeeps(group);
      expect([...acceptable], `${key}: kept ${keptId}`).toContain(keptId);
      // …and the checker's ranking (cleanup-ranking.ts, image_id as last tiebreak) picks one of the same rows.
      expect([...acceptable], `${key}: checker's ranking`).toContain(
        keptImageIds(group as unknown as RankableImage[]).get(key),
      );
      if (group.some((r) => r.status === 'complete')) expect(kept.status, key).toBe('complete');
      const inFlight = completedIds.get(key);
      if (inFlight === undefined) {
        expect(kept, `${key}: not in flight, untouched`).toEqual(beforeById.get(keptId));
        continue;
      }
      // The transfer completed into the row the cleanup kept, with every byte of the capture.
      expect(inFlight, key).toBe(keptId);
      expect(kept.status, key).toBe('complete');
      expect(kept.received_chunks, key).toBe(kept.total_chunks);
    }
    const blobs = await rowsOf(admin, `SELECT image_id::text, bytes FROM image_blobs ORDER BY image_id`);
    expect(blobs.map((b) => String(b.image_id)).sort()).toEqual([...completedIds.values()].sort());
    for (const p of planted.filter((x) => x.group.inFlight)) {
      const id = completedIds.get(`${p.deviceId}|${p.imageName}`);
      const blob = blobs.find((b) => b.image_id === id);
      expect(Buffer.compare(blob?.bytes as Buffer, Buffer.from(p.bytes!)), `${p.imageName} bytes`).toBe(0);
    }
  });
}

describe('cleanup + resume applied with transfers in flight (base stage)', () => {
  let scratch: Awaited<ReturnType<typeof scratchDatabase>> | undefined;
  let admin: pg.Client | undefined;
  let db: Database | undefined;

  beforeAll(async () => {
    const server = primaryTarget().server;
    if (server === null) throw new Error('no database server for tests');
    scratch = await scratchDatabase(server, 'migration_mid_run');
    admin = new pg.Client({ connectionString: scratch.url });
    await admin.connect();
    db = createPgDatabase({ url: scratch.url, max: 2, applicationName: 'camfleet-mid-run-property' });
  });
  afterAll(async () => {
    await db?.end().catch(() => {});
    await admin?.end().catch(() => {});
    await scratch?.drop();
  });

  test('property: every in-flight transfer completes in the kept row; nothing duplicated or lost; the backup is exactly the deleted rows', async () => {
    await fc.assert(midRunProperty(admin!, db!, SHIPPED_CLEANUP), propertyParams(30));
  });

  test('the property fails against a cleanup whose ranking has updated_at ASC instead of DESC', async () => {
    expect(FLIPPED_CLEANUP).not.toBe(SHIPPED_CLEANUP);
    const result = await fc.check(midRunProperty(admin!, db!, FLIPPED_CLEANUP), { numRuns: 200, endOnFailure: true });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/: kept /); // the ranking assertion caught it
  });

  test("the property fails against the seed's literal ranking: under a bare DESC Postgres ranks NULLs first", async () => {
    expect(SHIPPED_CLEANUP.split(' DESC NULLS LAST')).toHaveLength(4); // all three keys
    expect(SEED_LITERAL_CLEANUP).not.toContain('NULLS LAST');
    const result = await fc.check(midRunProperty(admin!, db!, SEED_LITERAL_CLEANUP), {
      numRuns: 200,
      endOnFailure: true,
    });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/: kept /);
  });
});
