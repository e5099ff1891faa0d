// Completing images (ARCHITECTURE.md §3 I3, I7). Each image completes atomically — all of it in one transaction:
// lock the row, assemble its chunks in order (in SQL: no image bytes cross the wire), verify, store the blob, mark
// the row complete. Images that become complete together share that transaction (one round trip per step for the
// whole batch). The caller acknowledges a device only after this has committed.
import { verifyAssembly } from '../core/assembly.ts';
import type { Database } from '../../world/sql.ts';

// The outcomes are the core's facts (core/facts.ts): the transfer state machine reads them.
import type { CompletionOutcome } from '../core/facts.ts';
export type { CompletionOutcome } from '../core/facts.ts';

export interface CompletionRequest {
  readonly imageId: string;
  /** devices.next_wake_at to record with the completion (the time the ACK_OK will announce). */
  readonly nextWakeAtIso: string | null;
  /** Record the ACK_OK this completion owes (image_acks_owed) in the same transaction; `fixed` only. */
  readonly ackOwed?: OwedAck;
}

/** What the ACK_OK owed for a completed image needs, so a restarted pipeline can send it (acks-owed.ts). */
export interface OwedAck {
  readonly mac: string;
  readonly wireName: string;
  readonly dialect: string;
}

export const BLOB_URL_PREFIX = 'camfleet-blob://image_blobs/';

export function blobUrl(imageId: string): string {
  return `${BLOB_URL_PREFIX}${imageId}`;
}

export async function completeImages(db: Database, reqs: readonly CompletionRequest[]): Promise<CompletionOutcome[]> {
  const ids = [...new Set(reqs.map((r) => r.imageId))];
  const outcomes = new Map<string, CompletionOutcome>();
  await db.transaction(async (client) => {
    // Rows locked in one order, so concurrent completers cannot deadlock on them.
    const locked = await client.query<{
      image_id: string;
      status: string | null;
      image_size: number | null;
      total_chunks: number | null;
    }>(
      `SELECT image_id::text, status, image_size, total_chunks FROM device_images
       WHERE image_id = ANY ($1::uuid[]) ORDER BY image_id FOR NO KEY UPDATE`,
      [ids],
    );
    const rows = new Map(locked.rows.map((r) => [r.image_id, r]));
    const candidates: string[] = [];
    for (const id of ids) {
      const row = rows.get(id);
      if (row === undefined) outcomes.set(id, { kind: 'gone' });
      else if (row.status === 'complete') outcomes.set(id, { kind: 'already_complete' });
      else if (row.total_chunks === null) outcomes.set(id, { kind: 'incomplete', reason: 'total_chunks unknown' });
      else candidates.push(id);
    }
    if (candidates.length === 0) return;

    const counted = await client.query<{ image_id: string; n: number; max_id: number }>(
      `SELECT image_id::text, count(*)::int AS n, max(chunk_id) AS max_id FROM image_chunks
       WHERE image_id = ANY ($1::uuid[]) GROUP BY image_id`,
      [candidates],
    );
    const counts = new Map(counted.rows.map((r) => [r.image_id, r]));
    const assemble: string[] = [];
    for (const id of candidates) {
      const row = rows.get(id);
      const c = counts.get(id);
      const total = row?.total_chunks ?? 0;
      if (c !== undefined && c.n >= total && c.max_id === total - 1) assemble.push(id);
      else outcomes.set(id, { kind: 'incomplete', reason: `${c?.n ?? 0} of ${total} chunks stored` });
    }
    if (assemble.length === 0) return;

    // Assemble once, into the blob table, and verify what was written; rows that fail are taken out again below.
    const blobs = await client.query<{ image_id: string; len: number; head: string; tail: string; sha256: string }>(
      `INSERT INTO image_blobs (image_id, bytes, sha256)
       SELECT a.image_id, a.b, encode(sha256(a.b), 'hex')
       FROM (SELECT image_id, string_agg(bytes, ''::bytea ORDER BY chunk_id) AS b FROM image_chunks
             WHERE image_id = ANY ($1::uuid[]) GROUP BY image_id) AS a
       ON CONFLICT (image_id) DO UPDATE SET bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, stored_at = now()
       RETURNING image_id::text, octet_length(bytes) AS len, encode(substring(bytes FROM 1 FOR 3), 'hex') AS head,
                 encode(substring(bytes FROM greatest(octet_length(bytes) - 1, 1) FOR 2), 'hex') AS tail, sha256`,
      [assemble],
    );
    const good: string[] = [];
    const badIds: string[] = [];
    const badCodes: number[] = [];
    for (const b of blobs.rows) {
      const row = rows.get(b.image_id);
      const c = counts.get(b.image_id);
      const verdict = verifyAssembly({
        storedChunks: c?.n ?? 0,
        maxChunkId: c?.max_id ?? -1,
        totalChunks: row?.total_chunks ?? 0,
        byteLength: b.len,
        imageSize: row?.image_size ?? null,
        headHex: b.head,
        tailHex: b.tail,
      });
      if (verdict.kind === 'ok') {
        good.push(b.image_id);
        outcomes.set(b.image_id, { kind: 'completed', sha256: b.sha256, byteLength: b.len });
      } else if (verdict.kind === 'invalid') {
        badIds.push(b.image_id);
        badCodes.push(verdict.errorCode);
        outcomes.set(b.image_id, verdict);
      } else outcomes.set(b.image_id, verdict);
    }
    if (badIds.length > 0) {
      await client.query(
        `WITH gone AS (DELETE FROM image_blobs WHERE image_id = ANY ($1::uuid[]))
         UPDATE device_images di SET status = 'failed', error_code = u.code, updated_at = now()
         FROM unnest($1::uuid[], $2::int[]) AS u(image_id, code) WHERE di.image_id = u.image_id`,
        [badIds, badCodes],
      );
    }
    const incompleteAfterAll = blobs.rows
      .filter((b) => outcomes.get(b.image_id)?.kind === 'incomplete')
      .map((b) => b.image_id);
    if (incompleteAfterAll.length > 0) {
      await client.query('DELETE FROM image_blobs WHERE image_id = ANY ($1::uuid[])', [incompleteAfterAll]);
    }
    if (good.length === 0) return;
    const wakeOf = new Map(reqs.map((r) => [r.imageId, r.nextWakeAtIso]));
    const owedOf = new Map(reqs.flatMap((r) => (r.ackOwed === undefined ? [] : [[r.imageId, r.ackOwed] as const])));
    const owed = good.filter((id) => owedOf.has(id));
    await client.query(
      `WITH owed AS (
         INSERT INTO image_acks_owed (image_id, device_mac, wire_name, dialect, next_wake_at)
         SELECT * FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
         ON CONFLICT (image_id) DO NOTHING
       ), img AS (
         UPDATE device_images
         SET status = 'complete', image_url = $3 || image_id::text, received_at = now(), error_code = 0,
             received_chunks = greatest(coalesce(received_chunks, 0), total_chunks), updated_at = now()
         WHERE image_id = ANY ($1::uuid[])
         RETURNING image_id, device_id
       ), wake AS (
         SELECT DISTINCT ON (img.device_id) img.device_id, u.at
         FROM img JOIN unnest($1::uuid[], $2::timestamptz[]) AS u(image_id, at) ON u.image_id = img.image_id
         WHERE u.at IS NOT NULL
         ORDER BY img.device_id, u.at DESC
       )
       UPDATE devices d SET next_wake_at = wake.at FROM wake WHERE d.device_id = wake.device_id`,
      [
        good,
        good.map((id) => wakeOf.get(id) ?? null),
        BLOB_URL_PREFIX,
        owed,
        owed.map((id) => owedOf.get(id)?.mac),
        owed.map((id) => owedOf.get(id)?.wireName),
        owed.map((id) => owedOf.get(id)?.dialect),
        owed.map((id) => wakeOf.get(id) ?? null),
      ],
    );
  });
  return reqs.map((r) => outcomes.get(r.imageId) ?? { kind: 'incomplete', reason: 'not examined' });
}
