// Which chunks to ask a device for again (PROTOCOL.md §4 missing_chunks; spec IT-02: drop [4,9] → ask [4,9]).

/** Per request at most this many ids, so a reply stays a small message. */
export const MISSING_IDS_PER_REQUEST_MAX = 100;

/** The ids in 0..total-1 not in `stored`, ascending, at most `cap`. Ids outside the range are ignored. */
export function missingChunkIds(
  totalChunks: number,
  stored: Iterable<number>,
  cap = MISSING_IDS_PER_REQUEST_MAX,
): number[] {
  const have = new Uint8Array(Math.max(0, totalChunks));
  for (const id of stored) if (id >= 0 && id < totalChunks) have[id] = 1;
  const missing: number[] = [];
  for (let id = 0; id < totalChunks && missing.length < cap; id++) if (have[id] === 0) missing.push(id);
  return missing;
}
