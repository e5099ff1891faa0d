// Metadata → which image row the transfer goes to (PROTOCOL.md §3, §6; ARCHITECTURE.md §3 I1, I4, I6, name reuse).
// Pure: the store reads the rows under every candidate name first, then this decides.
import type { Metadata } from '../../../simulator/protocol/index.ts';
import type { ImageFacts } from './facts.ts';
import { storedNameCandidates } from './names.ts';

export type MetadataDecision =
  /** No row of this capture: create one under `storedName`. `reused` is the row that already holds the wire name
   *  for another capture (a flash-counter reset), when storedName is a disambiguated name. */
  | { readonly kind: 'create'; readonly storedName: string; readonly reused?: ImageFacts }
  /** An unfinished row of this capture: resume into it, keeping its stored chunks and received_chunks. */
  | { readonly kind: 'resume'; readonly image: ImageFacts }
  /** This capture is stored complete: a re-send. Log it, store nothing, acknowledge it again. */
  | { readonly kind: 'duplicate'; readonly image: ImageFacts }
  | {
      readonly kind: 'reject';
      readonly code: 'total_chunks_changed' | 'name_reuse_exhausted' | 'bad_field';
      readonly reason: string;
    };

/**
 * The largest chunk a device can send: its base64 payload must fit a 64 KiB message (the codec's limit), so 48 KiB
 * of raw bytes. Larger announced chunk sizes are refused up front — they also keep image_size (≤ 10,000 chunks ×
 * 48 KiB) within the database's integer columns.
 */
export const CHUNK_BYTES_MAX = 48 * 1024;

/**
 * Same capture = same device timestamp text and same image size (the firmware re-sends a queued image with the
 * metadata it captured it with). A row without a recorded timestamp (not written by this pipeline) is judged by
 * its size alone.
 */
export function isSameCapture(row: ImageFacts, meta: Pick<Metadata, 'timestamp' | 'image_size'>): boolean {
  if (row.imageSize !== meta.image_size) return false;
  return row.captureTimestamp === null || row.captureTimestamp === meta.timestamp;
}

/**
 * Walk the candidate names of the capture (wire name, then its disambiguated forms): the first free name gets a new
 * row; the first row holding the same capture is resumed, or, when complete, is what this metadata duplicates.
 * `rows` holds the device's rows under any of those names (by stored name).
 */
export function decideMetadata(meta: Metadata, rows: ReadonlyMap<string, ImageFacts>): MetadataDecision {
  if (meta.max_chunk_size > CHUNK_BYTES_MAX) {
    return {
      kind: 'reject',
      code: 'bad_field',
      reason: `max_chunk_size ${meta.max_chunk_size} exceeds ${CHUNK_BYTES_MAX}: such a chunk cannot fit in a 64 KiB message`,
    };
  }
  const candidates = storedNameCandidates(meta.image_name, meta.timestamp, meta.image_size);
  for (const name of candidates) {
    const row = rows.get(name);
    if (row === undefined) {
      const reused = name === meta.image_name ? undefined : rows.get(meta.image_name);
      return reused === undefined ? { kind: 'create', storedName: name } : { kind: 'create', storedName: name, reused };
    }
    if (!isSameCapture(row, meta)) continue;
    // A stored image is acknowledged again whatever chunk size the re-send announces: its bytes are already safe.
    if (row.status === 'complete') return { kind: 'duplicate', image: row };
    if (row.totalChunks !== null && row.totalChunks !== meta.total_chunk_count) {
      return {
        kind: 'reject',
        code: 'total_chunks_changed',
        reason: `total_chunk_count ${meta.total_chunk_count} for ${meta.image_name} (timestamp ${meta.timestamp}) differs from ${row.totalChunks} announced before for the same capture`,
      };
    }
    return { kind: 'resume', image: row };
  }
  return {
    kind: 'reject',
    code: 'name_reuse_exhausted',
    reason: `${meta.image_name}: all ${candidates.length} stored names for capture ${meta.timestamp} (${meta.image_size} bytes) hold other captures`,
  };
}

/** Where the capture time came from (PROTOCOL.md §3: server fallback outside 2020–2100). */
export interface CaptureTime {
  readonly ms: number;
  readonly source: 'device' | 'server_fallback';
  readonly reason?: string;
}

/**
 * device_images.metadata: the decoded metadata message (wire `image_name` and `timestamp` as sent — the checker
 * identifies rows by them), °F beside °C as the original stored it, where the capture time came from, and the
 * stored name when it differs from the wire name. Also what fn_wake_ingestion_handler reads image_size and
 * total_chunk_count from.
 */
export function metadataRecord(
  meta: Metadata,
  extra: { readonly dialect: string; readonly captureTime: CaptureTime; readonly storedName: string },
): Record<string, unknown> {
  const record: Record<string, unknown> = {
    device_id: meta.device_id,
    timestamp: meta.timestamp,
    image_name: meta.image_name,
    image_size: meta.image_size,
    max_chunk_size: meta.max_chunk_size,
    total_chunk_count: meta.total_chunk_count,
  };
  if (meta.image_id !== undefined) record.image_id = meta.image_id;
  if (meta.location !== undefined) record.location = meta.location;
  if (meta.error !== undefined) record.error = meta.error;
  if (meta.sensor_data !== undefined) {
    record.sensor_data = meta.sensor_data;
    const c = meta.sensor_data.temperature;
    if (c !== undefined) record.temperature_f = celsiusToFahrenheit(c);
  }
  record.dialect = extra.dialect;
  record.captured_at_source = extra.captureTime.source;
  if (extra.captureTime.reason !== undefined) record.captured_at_reason = extra.captureTime.reason;
  if (extra.storedName !== meta.image_name) record.stored_name = extra.storedName;
  return record;
}

/** °C → °F, rounded to 0.01 (PROTOCOL.md §3: the server stores °F). */
export function celsiusToFahrenheit(c: number): number {
  return Math.round((c * 1.8 + 32) * 100) / 100;
}

/** A refusal decided from the message alone, before any row is read or a device provisioned. */
export function refuseBeforeLookup(m: Metadata): { readonly code: 'bad_field'; readonly reason: string } | undefined {
  if (m.timestamp.includes('\u0000')) {
    return { code: 'bad_field', reason: 'timestamp contains NUL, which the database cannot store' };
  }
  return undefined;
}
