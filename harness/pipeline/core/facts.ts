// What the pure decision core knows about the durable state: plain values read from Postgres by the store, never
// a connection. Every decision function of core/ is a pure function of these facts and one decoded message.

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
