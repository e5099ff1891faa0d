// device_images and image_transfers: the rows a metadata message routes to, opening (or resuming) a transfer
// through the resume migration's fn_wake_ingestion_handler, duplicate and name-reuse logging, and the durable route
// (device, wire name) → image row that chunks follow, also after a pipeline restart.
import type { ImageFacts } from '../core/facts.ts';
import type { OpenRequest, OpenResult, TransferRoute } from '../core/open.ts';
import { jsonParam } from './json.ts';
import type { Sql } from '../../world/sql.ts';

// The request and its result are the core's values (core/open.ts); named here too, where the store takes them.
export type { OpenRequest, OpenResult, TransferRoute } from '../core/open.ts';

interface ImageRow {
  image_id: string;
  image_name: string;
  status: string | null;
  capture_ts: string | null;
  image_size: number | null;
  total_chunks: number | null;
  received_chunks: number | null;
}

export interface ImageLookup {
  readonly deviceId: string;
  readonly names: readonly string[];
}

/** For each lookup, the device's rows under any of its names, by stored name. One statement for all. */
export async function findImagesMany(db: Sql, lookups: readonly ImageLookup[]): Promise<Map<string, ImageFacts>[]> {
  const deviceIds: string[] = [];
  const names: string[] = [];
  const ords: number[] = [];
  for (const [i, l] of lookups.entries()) {
    for (const name of l.names) {
      deviceIds.push(l.deviceId);
      names.push(name);
      ords.push(i);
    }
  }
  const { rows } = await db.query<ImageRow & { ord: number }>(
    `SELECT u.ord, di.image_id::text, di.image_name, di.status, di.metadata ->> 'timestamp' AS capture_ts,
            di.image_size, di.total_chunks, di.received_chunks
     FROM unnest($1::uuid[], $2::text[], $3::int[]) AS u(device_id, image_name, ord)
     JOIN device_images di ON di.device_id = u.device_id AND di.image_name = u.image_name`,
    [deviceIds, names, ords],
  );
  const out = lookups.map(() => new Map<string, ImageFacts>());
  for (const r of rows) out[r.ord]?.set(r.image_name, toFacts(r));
  return out;
}

function toFacts(r: ImageRow): ImageFacts {
  return {
    imageId: r.image_id,
    imageName: r.image_name,
    status: r.status,
    captureTimestamp: r.capture_ts,
    imageSize: r.image_size,
    totalChunks: r.total_chunks,
    receivedChunks: r.received_chunks ?? 0,
  };
}

/**
 * fn_wake_ingestion_handler(device, captured_at, stored name, metadata[, existing image]) for each request — a new
 * row (receiving, received_chunks 0) or a resume that never touches received_chunks — and, in the same statement,
 * the route of each wire name to the row it returned. One statement for the batch; a device has at most one
 * request in a batch (its metadata is handled in order), so no route is written twice.
 */
export async function openTransfers(db: Sql, reqs: readonly OpenRequest[]): Promise<OpenResult[]> {
  const { rows } = await db.query<{ ord: number; result: Record<string, unknown> | null }>(
    `WITH req AS (
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::jsonb[], $5::uuid[], $6::text[], $7::text[],
                            $8::int[], $9::int[]) WITH ORDINALITY
         AS q(device_id, captured_at, stored_name, metadata, existing_id, wire_name, capture_ts, image_size, total_chunks, ord)
     ), h AS MATERIALIZED (
       SELECT q.*, fn_wake_ingestion_handler(q.device_id, q.captured_at, q.stored_name, q.metadata, q.existing_id) AS r
       FROM req q ORDER BY q.ord
     ), t AS (
       INSERT INTO image_transfers (device_id, wire_name, image_id, capture_timestamp, image_size, total_chunks)
       SELECT h.device_id, h.wire_name, (h.r ->> 'image_id')::uuid, h.capture_ts, h.image_size, h.total_chunks
       FROM h WHERE (h.r ->> 'success')::boolean AND h.r ->> 'image_id' IS NOT NULL
       ON CONFLICT (device_id, wire_name) DO UPDATE
         SET image_id = EXCLUDED.image_id, capture_timestamp = EXCLUDED.capture_timestamp,
             image_size = EXCLUDED.image_size, total_chunks = EXCLUDED.total_chunks, updated_at = now()
       RETURNING 1
     )
     SELECT h.ord::int AS ord, h.r AS result FROM h ORDER BY h.ord`,
    [
      reqs.map((q) => q.route.deviceId),
      reqs.map((q) => q.capturedAtIso),
      reqs.map((q) => q.storedName),
      reqs.map((q) => jsonParam(q.metadata)),
      reqs.map((q) => q.existingImageId),
      reqs.map((q) => q.route.wireName),
      reqs.map((q) => q.route.captureTimestamp),
      reqs.map((q) => q.route.imageSize),
      reqs.map((q) => q.route.totalChunks),
    ],
  );
  const byOrd = new Map(rows.map((r) => [r.ord, r.result ?? {}]));
  return reqs.map((_, i) => toOpenResult(byOrd.get(i + 1) ?? {}));
}

function toOpenResult(r: Record<string, unknown>): OpenResult {
  if (r.success !== true || typeof r.image_id !== 'string') {
    return {
      ok: false,
      code: typeof r.error === 'string' ? r.error : 'no_result',
      message: typeof r.message === 'string' ? r.message : '',
    };
  }
  return {
    ok: true,
    imageId: r.image_id,
    isResume: r.is_resume === true,
    alreadyComplete: r.already_complete === true,
    receivedChunks: typeof r.received_chunks === 'number' ? r.received_chunks : 0,
  };
}

/** Routes the wire name to a row without opening a transfer (a re-send of a complete image). */
export async function upsertRoute(db: Sql, route: TransferRoute, imageId: string): Promise<void> {
  await db.query(
    `INSERT INTO image_transfers (device_id, wire_name, image_id, capture_timestamp, image_size, total_chunks)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (device_id, wire_name) DO UPDATE
       SET image_id = EXCLUDED.image_id, capture_timestamp = EXCLUDED.capture_timestamp,
           image_size = EXCLUDED.image_size, total_chunks = EXCLUDED.total_chunks, updated_at = now()`,
    [route.deviceId, route.wireName, imageId, route.captureTimestamp, route.imageSize, route.totalChunks],
  );
}

/** fn_log_duplicate_image: a re-announced complete image is logged against its row (I6). Returns the log id. */
export async function logDuplicate(
  db: Sql,
  deviceId: string,
  storedName: string,
  metadata: Record<string, unknown>,
): Promise<string | null> {
  const { rows } = await db.query<{ log_id: string | null }>(
    'SELECT fn_log_duplicate_image($1::uuid, $2::text, $3::jsonb)::text AS log_id',
    [deviceId, storedName, jsonParam(metadata)],
  );
  return rows[0]?.log_id ?? null;
}

/**
 * A new capture under a name an older capture holds (flash-counter reset): logged in duplicate_images_log against
 * the OLDER row, with `camfleet_event: 'name_reuse'` and the name the new capture is stored under, so the report
 * and the checker can tell it from a re-send.
 */
export async function logNameReuse(
  db: Sql,
  deviceId: string,
  olderImageId: string,
  metadata: Record<string, unknown>,
): Promise<void> {
  await db.query(
    `INSERT INTO duplicate_images_log (device_id, image_id, image_name, original_captured_at, duplicate_metadata)
     SELECT $1::uuid, di.image_id, di.image_name, di.captured_at, $3::jsonb
     FROM device_images di WHERE di.image_id = $2::uuid`,
    [deviceId, olderImageId, jsonParam({ ...metadata, camfleet_event: 'name_reuse' })],
  );
}

export interface StoredRoute {
  readonly deviceId: string;
  readonly imageId: string;
  readonly storedName: string;
  readonly status: string | null;
  readonly captureTimestamp: string;
  readonly imageSize: number;
  readonly totalChunks: number;
  readonly chunkBytes: number | null;
  readonly dialect: string | null;
}

/** A durable route: the device's wire name with the row and transfer it belongs to. */
export interface StoredRouteOf extends StoredRoute {
  readonly mac: string;
  readonly wireName: string;
}

/** Routes from image_transfers, each with its device and row; `where` filters them (t, d, di are the tables). */
async function selectRoutes(db: Sql, where: string, values: unknown[]): Promise<StoredRouteOf[]> {
  const { rows } = await db.query<{
    mac: string;
    wire_name: string;
    device_id: string;
    image_id: string;
    image_name: string;
    status: string | null;
    capture_timestamp: string;
    image_size: number;
    total_chunks: number;
    chunk_bytes: number | null;
    dialect: string | null;
  }>(
    `SELECT d.device_mac AS mac, t.wire_name, d.device_id::text, t.image_id::text, di.image_name, di.status,
            t.capture_timestamp, t.image_size, t.total_chunks,
            CASE WHEN (di.metadata ->> 'max_chunk_size') ~ '^[0-9]{1,9}$'
                 THEN (di.metadata ->> 'max_chunk_size')::int END AS chunk_bytes,
            di.metadata ->> 'dialect' AS dialect
     FROM image_transfers t
     JOIN devices d ON d.device_id = t.device_id
     JOIN device_images di ON di.image_id = t.image_id
     WHERE ${where}`,
    values,
  );
  return rows.map((r) => ({
    mac: r.mac,
    wireName: r.wire_name,
    deviceId: r.device_id,
    imageId: r.image_id,
    storedName: r.image_name,
    status: r.status,
    captureTimestamp: r.capture_timestamp,
    imageSize: r.image_size,
    totalChunks: r.total_chunks,
    chunkBytes: r.chunk_bytes,
    dialect: r.dialect,
  }));
}

/** Transfers still in flight (a row pending/receiving, its route touched within `updatedWithinMs`): what a
 *  pipeline restarted mid-transfer takes over, to ask for the chunks it lacks. */
export function findIncompleteRoutes(db: Sql, updatedWithinMs: number): Promise<StoredRouteOf[]> {
  return selectRoutes(
    db,
    `di.status IN ('pending', 'receiving') AND t.updated_at > now() - make_interval(secs => $1::double precision / 1000)`,
    [updatedWithinMs],
  );
}

/** The durable route of a device's wire name (for chunks whose metadata this process has not seen). */
export async function findRoute(db: Sql, mac: string, wireName: string): Promise<StoredRoute | undefined> {
  return (await selectRoutes(db, 'd.device_mac = $1 AND t.wire_name = $2', [mac, wireName]))[0];
}
