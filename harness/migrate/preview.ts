// The seed guide's "Reviewing Duplicates Before Deletion" query, with the cleanup's exact ranking (NULLs last and
// the image_id tiebreak of schema/002_cleanup.sql), so KEEP here is the row the cleanup keeps.
import type pg from 'pg';

export interface PreviewRow {
  readonly device_code: string | null;
  readonly device_mac: string;
  readonly image_name: string;
  readonly image_id: string;
  readonly status: string | null;
  readonly chunks: string | null;
  readonly captured_at: Date;
  readonly updated_at: Date | null;
  readonly action: '✓ KEEP' | '✗ DELETE';
}

export const previewSql = `
WITH ranked_images AS (
  SELECT
    d.device_code,
    d.device_mac,
    di.device_id,
    di.image_name,
    di.image_id,
    di.status,
    di.received_chunks,
    di.total_chunks,
    di.captured_at,
    di.updated_at,
    ROW_NUMBER() OVER (
      PARTITION BY di.device_id, di.image_name
      ORDER BY
        CASE di.status
          WHEN 'complete' THEN 1
          WHEN 'receiving' THEN 2
          WHEN 'pending' THEN 3
          WHEN 'failed' THEN 4
          ELSE 5
        END,
        di.updated_at DESC NULLS LAST,
        di.received_chunks DESC NULLS LAST,
        di.captured_at DESC NULLS LAST,
        di.image_id
    ) as rank
  FROM device_images di
  JOIN devices d ON di.device_id = d.device_id
  WHERE (di.device_id, di.image_name) IN (
    SELECT device_id, image_name
    FROM device_images
    GROUP BY device_id, image_name
    HAVING COUNT(*) > 1
  )
)
SELECT
  device_code,
  device_mac,
  image_name,
  image_id,
  status,
  received_chunks || '/' || total_chunks as chunks,
  captured_at,
  updated_at,
  CASE WHEN rank = 1 THEN '✓ KEEP' ELSE '✗ DELETE' END as action
FROM ranked_images
ORDER BY device_code, device_id, image_name, rank`;

export async function previewDuplicates(client: pg.ClientBase): Promise<PreviewRow[]> {
  return (await client.query<PreviewRow>(previewSql)).rows;
}
