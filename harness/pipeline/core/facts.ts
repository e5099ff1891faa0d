// What the pure decision core knows about the durable state: plain values read from Postgres by the store, never
// a connection. Every decision function of core/ is a pure function of these facts and one decoded message.
import type { Dialect } from '../../../simulator/protocol/index.ts';

/** A device_images row, as far as routing a metadata message needs it. */
export interface ImageFacts {
  readonly imageId: string;
  /** The stored (possibly disambiguated) name, device_images.image_name. */
  readonly imageName: string;
  readonly status: string | null;
  /** The device's capture `timestamp` exactly as sent (device_images.metadata ->> 'timestamp'); null for rows the
   *  pipeline did not write. */
  readonly captureTimestamp: string | null;
  readonly imageSize: number | null;
  readonly totalChunks: number | null;
  readonly receivedChunks: number;
}

/** An image transfer as the chunk path needs it (kept in memory, backed by image_transfers). */
export interface TransferFacts {
  readonly totalChunks: number;
  readonly imageSize: number;
  /** max_chunk_size of the transfer's metadata; null when unknown (a row written by something else). */
  readonly chunkBytes: number | null;
}

/** device_images.error_code values the pipeline sets when an assembled image fails verification. */
export const ASSEMBLY_ERROR = {
  sizeMismatch: 101,
  noStartOfImage: 102,
  noEndOfImage: 103,
} as const;

/** What completing an image found (store/completion.ts: one transaction per batch of images). */
export type CompletionOutcome =
  | { readonly kind: 'completed'; readonly sha256: string; readonly byteLength: number }
  /** Someone (another instance, an earlier attempt) had already completed it: safe to acknowledge. */
  | { readonly kind: 'already_complete' }
  | { readonly kind: 'incomplete'; readonly reason: string }
  /** Verification failed: the row is now 'failed' with this error_code; never acknowledged. */
  | { readonly kind: 'invalid'; readonly errorCode: number; readonly reason: string }
  | { readonly kind: 'gone' };

/** A dialect as stored (device_images.metadata ->> 'dialect', image_acks_owed.dialect), or `fallback` when the row
 *  has none this pipeline knows (written by something else). */
export function storedDialect(stored: string | null, fallback: Dialect): Dialect {
  return stored === 'spec' || stored === 'fw350' ? stored : fallback;
}
