// Is an assembled image fit to be stored complete and acknowledged? (ARCHITECTURE.md §3 I3: received_chunks =
// total_chunks, size matches, JPEG markers present.) The store computes these facts in SQL over the ordered chunks.
import { ASSEMBLY_ERROR } from './facts.ts';

export interface AssemblyFacts {
  readonly storedChunks: number;
  /** Highest stored chunk id, -1 when none. */
  readonly maxChunkId: number;
  readonly totalChunks: number;
  readonly byteLength: number;
  readonly imageSize: number | null;
  /** Hex of the first 3 and the last 2 bytes of the assembly. */
  readonly headHex: string;
  readonly tailHex: string;
}

export type AssemblyVerdict =
  | { readonly kind: 'ok' }
  /** Chunks are still missing: not an error, the transfer goes on. */
  | { readonly kind: 'incomplete'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly errorCode: number; readonly reason: string };

export function verifyAssembly(f: AssemblyFacts): AssemblyVerdict {
  // Chunk ids are unique per image and checked < total on the way in, so count = total means 0..total-1 are all there.
  if (f.storedChunks < f.totalChunks || f.maxChunkId !== f.totalChunks - 1) {
    return { kind: 'incomplete', reason: `${f.storedChunks} of ${f.totalChunks} chunks stored` };
  }
  if (f.imageSize !== null && f.byteLength !== f.imageSize) {
    return {
      kind: 'invalid',
      errorCode: ASSEMBLY_ERROR.sizeMismatch,
      reason: `assembled ${f.byteLength} bytes, image_size is ${f.imageSize}`,
    };
  }
  if (f.headHex.toLowerCase() !== 'ffd8ff') {
    return { kind: 'invalid', errorCode: ASSEMBLY_ERROR.noStartOfImage, reason: `starts ${f.headHex}, not FF D8 FF` };
  }
  if (f.tailHex.toLowerCase() !== 'ffd9') {
    return { kind: 'invalid', errorCode: ASSEMBLY_ERROR.noEndOfImage, reason: `ends ${f.tailHex}, not FF D9` };
  }
  return { kind: 'ok' };
}
