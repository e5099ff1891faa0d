// An independent TypeScript statement of the cleanup's ranking (schema/002_cleanup.sql), used to check the SQL
// rather than to run it: status complete > receiving > pending > failed > other, then updated_at DESC,
// received_chunks DESC, captured_at DESC (NULLs last), then image_id ascending.

export interface RankableImage {
  readonly image_id: string;
  readonly device_id: string;
  readonly image_name: string;
  readonly status: string | null;
  readonly updated_at: Date | null;
  readonly received_chunks: number | null;
  readonly captured_at: Date | null;
}

const statusRank: Readonly<Record<string, number>> = { complete: 1, receiving: 2, pending: 3, failed: 4 };

function rankOfStatus(status: string | null): number {
  return (status !== null ? statusRank[status] : undefined) ?? 5;
}

/** Descending with NULLs last: a present value beats a missing one. */
function descNullsLast(a: number | null, b: number | null): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return b - a;
}

export function compareForKeep(a: RankableImage, b: RankableImage): number {
  return (
    rankOfStatus(a.status) - rankOfStatus(b.status) ||
    descNullsLast(a.updated_at?.getTime() ?? null, b.updated_at?.getTime() ?? null) ||
    descNullsLast(a.received_chunks, b.received_chunks) ||
    descNullsLast(a.captured_at?.getTime() ?? null, b.captured_at?.getTime() ?? null) ||
    compareUuidText(a.image_id, b.image_id)
  );
}

/** Postgres orders uuid values bytewise, which for the canonical lower-case text form is plain string order. */
function compareUuidText(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** image_id of the row each (device_id, image_name) group keeps, keyed by `device_id|image_name`. */
export function keptImageIds(rows: readonly RankableImage[]): Map<string, string> {
  const best = new Map<string, RankableImage>();
  for (const row of rows) {
    const key = `${row.device_id}|${row.image_name}`;
    const current = best.get(key);
    if (!current || compareForKeep(row, current) < 0) best.set(key, row);
  }
  return new Map([...best].map(([key, row]) => [key, row.image_id]));
}
