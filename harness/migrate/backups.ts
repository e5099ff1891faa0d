// The rows the cleanup backed up (device_images_duplicates_backup), newest first, so a user can pick the
// backup_id that `npm run migrate -- restore <backup_id>` takes (the seed guide's restore step needs one).
import type pg from 'pg';

export interface BackupRow {
  readonly backup_id: string;
  readonly device_code: string | null;
  readonly image_name: string | null;
  readonly status: string | null;
  /** `received/total`, as the preview shows chunks. */
  readonly chunks: string | null;
  readonly backed_up_at: Date | null;
}

export const backupsSql = `
SELECT b.backup_id,
       COALESCE(d.device_code, d.device_mac) AS device_code,
       b.image_name,
       b.status,
       b.received_chunks || '/' || b.total_chunks AS chunks,
       b.backed_up_at
FROM device_images_duplicates_backup b
LEFT JOIN devices d ON d.device_id = b.device_id
ORDER BY b.backed_up_at DESC NULLS LAST, d.device_code, b.image_name, b.backup_id`;

/** Every backup row; undefined when the cleanup step never ran (there is no backup table). */
export async function listBackups(client: pg.ClientBase): Promise<BackupRow[] | undefined> {
  const exists = await client.query<{ present: boolean }>(
    `SELECT to_regclass('device_images_duplicates_backup') IS NOT NULL AS present`,
  );
  if (!exists.rows[0]?.present) return undefined;
  return (await client.query<BackupRow>(backupsSql)).rows;
}
