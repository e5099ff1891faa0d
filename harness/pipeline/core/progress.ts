// "All chunks stored → complete it" (ARCHITECTURE.md §3 I3): the rule that turns a transfer's progress into the
// all_stored event of the transfer state machine (transfer-state.ts), wherever the count comes from.

/** Every chunk is stored once the count reaches the total (chunk ids are unique per image and < total). An unknown
 *  total (a row written by something else) is never complete by count. */
export function isAllStored(storedCount: number, totalChunks: number | null): boolean {
  return totalChunks !== null && storedCount >= totalChunks;
}

/** An image's row after a chunk flush (store/chunks.ts ImageProgress). */
export interface FlushedImage {
  readonly imageId: string;
  readonly receivedChunks: number;
  readonly totalChunks: number | null;
  readonly status: string | null;
}

/** The images a flush finished: every chunk now stored, and the row not complete already. */
export function finishedImageIds(progress: readonly FlushedImage[]): Set<string> | undefined {
  let finished: Set<string> | undefined;
  for (const p of progress) {
    if (p.status !== 'complete' && isAllStored(p.receivedChunks, p.totalChunks))
      (finished ??= new Set()).add(p.imageId);
  }
  return finished;
}
