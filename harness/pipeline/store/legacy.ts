// The original service's own SQL, for the legacy profiles (PROTOCOL.md §7): plain INSERT / UPDATE of
// device_images with no fn_* functions, so it runs on the BASE stage (no unique key, no resume migration). Each
// statement is as the original had it; the bug a profile reproduces is in which of them it calls, and when.
import { verifyAssembly } from '../core/assembly.ts';
import { BLOB_URL_PREFIX, type CompletionOutcome, type CompletionRequest } from './completion.ts';
import type { OpenRequest } from './images.ts';
import { jsonParam } from './json.ts';
import type { Database, Sql } from '../../world/sql.ts';

/** A new device_images row (receiving, received_chunks 0), whatever rows the name already has. */
export async function insertImageRow(db: Sql, req: OpenRequest): Promise<string> {
  const { rows } = await db.query<{ image_id: string }>(
    `INSERT INTO device_images (device_id, company_id, program_id, site_id, image_name, image_size, captured_at,
                                total_chunks, received_chunks, status, metadata)
     SELECT d.device_id, d.company_id, d.program_id, d.site_id, $2, $3, $4, $5, 0, 'receiving', $6::jsonb
     FROM devices d WHERE d.device_id = $1
     RETURNING image_id::text`,
    [
      req.route.deviceId,
      req.storedName,
      req.route.imageSize,
      req.capturedAtIso,
      req.route.totalChunks,
      jsonParam(req.metadata),
    ],
  );
  const id = rows[0]?.image_id;
  if (id === undefined) throw new Error(`device ${req.route.deviceId} does not exist`);
  return id;
}

export interface ResumedRow {
  readonly imageId: string;
  readonly receivedChunks: number;
  readonly alreadyComplete: boolean;
}

/**
 * Resume: the row gets the metadata again and status 'receiving'. With `resetCount` this is the original's UPDATE
 * fallback that set received_chunks back to 0 (PROTOCOL.md §7.5) — the bug of legacy-reset-count.
 */
export async function resumeImageRow(
  db: Sql,
  imageId: string,
  req: OpenRequest,
  resetCount: boolean,
): Promise<ResumedRow> {
  const { rows } = await db.query<{ received_chunks: number | null }>(
    `UPDATE device_images
     SET captured_at = $2, image_size = $3, total_chunks = $4, metadata = $5::jsonb, status = 'receiving',
         ${resetCount ? 'received_chunks = 0,' : ''} updated_at = now()
     WHERE image_id = $1 AND status IS DISTINCT FROM 'complete'
     RETURNING received_chunks`,
    [imageId, req.capturedAtIso, req.route.imageSize, req.route.totalChunks, jsonParam(req.metadata)],
  );
  const row = rows[0];
  if (row !== undefined) return { imageId, receivedChunks: row.received_chunks ?? 0, alreadyComplete: false };
  const status = await db.query<{ status: string | null }>('SELECT status FROM device_images WHERE image_id = $1', [
    imageId,
  ]);
  if (status.rows[0]?.status === 'complete') return { imageId, receivedChunks: 0, alreadyComplete: true };
  throw new Error(`image row ${imageId} no longer exists`);
}

/** A re-send logged in duplicate_images_log (where the stage has it) without fn_log_duplicate_image. */
export async function logDuplicatePlain(db: Sql, imageId: string, metadata: Record<string, unknown>): Promise<void> {
  await db.query(
    `INSERT INTO duplicate_images_log (device_id, image_id, image_name, original_captured_at, duplicate_metadata)
     SELECT di.device_id, di.image_id, di.image_name, di.captured_at, $2::jsonb
     FROM device_images di WHERE di.image_id = $1`,
    [imageId, jsonParam(metadata)],
  );
}

export interface ExpiredTransfer {
  readonly imageId: string;
  readonly chunksDeleted: number;
  readonly receivedChunks: number;
}

/**
 * legacy-ttl (PROTOCOL.md §6 edge_chunk_buffer, §7.6): the stored chunks of every unfinished image whose LAST chunk
 * is older than `ttlMs` are deleted, and received_chunks is recomputed from what is left — so it goes down. The
 * Postgres clock judges the age (received_at is stamped by it), unless `nowMs` is given: then that instant does, for
 * a database whose chunk stamps are on the caller's clock (a sim run's virtual time, world/sim/sim-now.ts).
 */
export async function expireChunks(db: Database, ttlMs: number, nowMs?: number): Promise<ExpiredTransfer[]> {
  return db.transaction(async (client) => {
    const deleted = await client.query<{ image_id: string; n: number }>(
      `WITH stale AS (
         -- Per unfinished image, its newest chunk through the (image_id, chunk_id) key: no scan of all chunks.
         SELECT di.image_id FROM device_images di
         WHERE di.status IS DISTINCT FROM 'complete'
           AND (SELECT max(c.received_at) FROM image_chunks c WHERE c.image_id = di.image_id)
               < coalesce(to_timestamp($2::double precision / 1000), now())
                 - make_interval(secs => $1::double precision / 1000)
       ), gone AS (
         DELETE FROM image_chunks c USING stale s WHERE c.image_id = s.image_id RETURNING c.image_id
       )
       SELECT image_id::text, count(*)::int AS n FROM gone GROUP BY image_id ORDER BY image_id`,
      [ttlMs, nowMs ?? null],
    );
    if (deleted.rows.length === 0) return [];
    const ids = deleted.rows.map((r) => r.image_id);
    const updated = await client.query<{ image_id: string; received_chunks: number }>(
      `UPDATE device_images di
       SET received_chunks = (SELECT count(*)::int FROM image_chunks c WHERE c.image_id = di.image_id),
           updated_at = now()
       WHERE di.image_id = ANY ($1::uuid[]) AND di.status IS DISTINCT FROM 'complete'
       RETURNING di.image_id::text, di.received_chunks`,
      [ids],
    );
    const counts = new Map(updated.rows.map((r) => [r.image_id, r.received_chunks]));
    return deleted.rows.map((r) => ({
      imageId: r.image_id,
      chunksDeleted: r.n,
      receivedChunks: counts.get(r.image_id) ?? 0,
    }));
  });
}

/**
 * legacy-memory-chunks: received_chunks SET to the number of chunks this process holds in memory (the original
 * counted its in-memory buffer). After a restart that count starts again from 0 — progress goes back (I4).
 */
export async function setReceivedChunks(
  db: Sql,
  imageIds: readonly string[],
  counts: readonly number[],
): Promise<void> {
  await db.query(
    `UPDATE device_images di SET received_chunks = u.n, status = 'receiving', updated_at = now()
     FROM unnest($1::uuid[], $2::int[]) AS u(image_id, n)
     WHERE di.image_id = u.image_id AND di.status IS DISTINCT FROM 'complete'`,
    [imageIds, counts],
  );
}

/**
 * legacy-memory-chunks: completes images from chunks held in memory — assembled here, verified, blob stored and
 * row marked complete in one transaction per image (ack after commit still holds: I7 is not this profile's bug).
 */
export async function completeFromMemory(
  db: Database,
  reqs: readonly CompletionRequest[],
  chunksOf: (imageId: string) => readonly (Uint8Array | undefined)[] | undefined,
): Promise<CompletionOutcome[]> {
  const out: CompletionOutcome[] = [];
  for (const req of reqs) out.push(await completeOne(db, req, chunksOf(req.imageId)));
  return out;
}

async function completeOne(
  db: Database,
  req: CompletionRequest,
  chunks: readonly (Uint8Array | undefined)[] | undefined,
): Promise<CompletionOutcome> {
  return db.transaction(async (client) => {
    const locked = await client.query<{
      status: string | null;
      image_size: number | null;
      total_chunks: number | null;
    }>('SELECT status, image_size, total_chunks FROM device_images WHERE image_id = $1 FOR NO KEY UPDATE', [
      req.imageId,
    ]);
    const row = locked.rows[0];
    if (row === undefined) return { kind: 'gone' } as const;
    if (row.status === 'complete') return { kind: 'already_complete' } as const;
    const total = row.total_chunks ?? 0;
    const held = chunks?.filter((c) => c !== undefined).length ?? 0;
    if (chunks === undefined || total === 0 || held < total || chunks.length < total) {
      return { kind: 'incomplete', reason: `${held} of ${total} chunks held in memory` } as const;
    }
    const bytes = Buffer.concat(chunks.slice(0, total) as Uint8Array[]);
    const verdict = verifyAssembly({
      storedChunks: held,
      maxChunkId: total - 1,
      totalChunks: total,
      byteLength: bytes.byteLength,
      imageSize: row.image_size,
      headHex: bytes.subarray(0, 3).toString('hex'),
      tailHex: bytes.subarray(Math.max(bytes.byteLength - 2, 0)).toString('hex'),
    });
    if (verdict.kind === 'invalid') {
      await client.query(
        `UPDATE device_images SET status = 'failed', error_code = $2, updated_at = now() WHERE image_id = $1`,
        [req.imageId, verdict.errorCode],
      );
      return verdict;
    }
    if (verdict.kind !== 'ok') return verdict;
    const blob = await client.query<{ sha256: string }>(
      `INSERT INTO image_blobs (image_id, bytes, sha256) VALUES ($1, $2, encode(sha256($2), 'hex'))
       ON CONFLICT (image_id) DO UPDATE SET bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, stored_at = now()
       RETURNING sha256`,
      [req.imageId, bytes],
    );
    await client.query(
      `WITH img AS (
         UPDATE device_images
         SET status = 'complete', image_url = $3 || image_id::text, received_at = now(), error_code = 0,
             received_chunks = greatest(coalesce(received_chunks, 0), total_chunks), updated_at = now()
         WHERE image_id = $1 RETURNING device_id
       )
       UPDATE devices d SET next_wake_at = $2::timestamptz FROM img
       WHERE d.device_id = img.device_id AND $2::timestamptz IS NOT NULL`,
      [req.imageId, req.nextWakeAtIso, BLOB_URL_PREFIX],
    );
    return { kind: 'completed', sha256: blob.rows[0]?.sha256 ?? '', byteLength: bytes.byteLength } as const;
  });
}
