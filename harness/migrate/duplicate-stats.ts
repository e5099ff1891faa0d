import type pg from 'pg';

export interface DuplicateStats {
  readonly groups: number;
  /** All rows in duplicate groups, the ones the cleanup would keep included. */
  readonly rows: number;
  readonly imageRows: number;
}

export async function readDuplicateStats(client: pg.ClientBase): Promise<DuplicateStats> {
  const { rows } = await client.query<{ groups: string; rows: string | null; image_rows: string }>(`
    SELECT (SELECT count(*) FROM device_images) AS image_rows, count(*) AS groups, sum(n) AS rows
    FROM (SELECT count(*) AS n FROM device_images GROUP BY device_id, image_name HAVING count(*) > 1) AS g`);
  const row = rows[0];
  return { groups: Number(row?.groups ?? 0), rows: Number(row?.rows ?? 0), imageRows: Number(row?.image_rows ?? 0) };
}
