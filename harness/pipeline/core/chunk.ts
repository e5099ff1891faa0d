// Chunk → store it or refuse it (PROTOCOL.md §3). Pure and allocation-free on the accept path: it runs ~35,000
// times per burst.
import type { RejectCode } from '../../../simulator/protocol/index.ts';
import type { TransferFacts } from './facts.ts';

export type ChunkDecision =
  { readonly kind: 'store' } | { readonly kind: 'reject'; readonly code: RejectCode; readonly reason: string };

const STORE: ChunkDecision = Object.freeze({ kind: 'store' });

/** Bytes chunk `id` must carry: the chunk size for every chunk but the last, the remainder for the last. */
export function expectedChunkBytes(t: TransferFacts, id: number): number | null {
  if (t.chunkBytes === null) return null;
  return id < t.totalChunks - 1 ? t.chunkBytes : t.imageSize - t.chunkBytes * (t.totalChunks - 1);
}

export function decideChunk(t: TransferFacts, chunkId: number, payloadBytes: number): ChunkDecision {
  if (chunkId >= t.totalChunks) {
    return {
      kind: 'reject',
      code: 'chunk_id_out_of_range',
      reason: `chunk_id ${chunkId} (0-based) is not below total_chunk_count ${t.totalChunks}`,
    };
  }
  const expected = expectedChunkBytes(t, chunkId);
  if (expected === null ? payloadBytes < 1 || payloadBytes > t.imageSize : payloadBytes !== expected) {
    return {
      kind: 'reject',
      code: 'bad_field',
      reason: `payload of chunk ${chunkId} has ${payloadBytes} bytes, expected ${expected ?? `1..${t.imageSize}`} (image_size ${t.imageSize}, ${t.totalChunks} chunks of ${t.chunkBytes ?? '?'} bytes)`,
    };
  }
  return STORE;
}
