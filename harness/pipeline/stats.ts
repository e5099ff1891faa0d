// Counters the pipeline keeps (read by progress displays and run reports).

export interface PipelineStats {
  messages: number;
  hellos: number;
  metadata: number;
  chunksReceived: number;
  chunksStored: number;
  chunksDuplicate: number;
  imagesCompleted: number;
  acksSent: number;
  duplicatesLogged: number;
  missingRequests: number;
  rejections: Record<string, number>;
  rejected: number;
  /** Of `rejected`, refusals past the per-device cap of rows per minute: stored as counts, not one by one. */
  rejectedCounted: number;
  devicesProvisioned: number;
  /** New captures stored under a disambiguated name after a flash-counter reset (ARCHITECTURE.md §3). */
  namesReused: number;
  /** Assembled images that failed verification (size or JPEG markers) and were marked 'failed', not acked. */
  imagesFailed: number;
  /** Chunk batches that could not be written after every retry (their chunks are asked for again). */
  flushesFailed: number;
}

export function emptyStats(): PipelineStats {
  return {
    messages: 0,
    hellos: 0,
    metadata: 0,
    chunksReceived: 0,
    chunksStored: 0,
    chunksDuplicate: 0,
    imagesCompleted: 0,
    acksSent: 0,
    duplicatesLogged: 0,
    missingRequests: 0,
    rejections: {},
    rejected: 0,
    rejectedCounted: 0,
    devicesProvisioned: 0,
    namesReused: 0,
    imagesFailed: 0,
    flushesFailed: 0,
  };
}

/** A copy the caller may keep (the live object keeps changing). */
export function snapshotStats(s: PipelineStats): PipelineStats {
  return { ...s, rejections: { ...s.rejections } };
}
