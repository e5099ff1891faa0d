// The seed guide's "Restore specific record" statement, verbatim but for the id parameter. Under the resume
// migration's UNIQUE constraint the ON CONFLICT keeps a restored copy out while its pair still exists.
import type pg from 'pg';

export const restoreSql = `
INSERT INTO device_images (
  device_id, company_id, program_id, site_id,
  image_name, image_url, image_size, captured_at, received_at,
  total_chunks, received_chunks, status, error_code, metadata
)
SELECT
  device_id, company_id, program_id, site_id,
  image_name, image_url, image_size, captured_at, received_at,
  total_chunks, received_chunks, status, error_code, metadata
FROM device_images_duplicates_backup
WHERE backup_id = $1
ON CONFLICT (device_id, image_name) DO NOTHING`;

export type RestoreOutcome =
  | { readonly kind: 'restored'; readonly imageName: string }
  | { readonly kind: 'blocked'; readonly imageName: string } // its (device_id, image_name) pair exists
  | { readonly kind: 'not_found' };

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

export async function restoreBackup(client: pg.ClientBase, backupId: string): Promise<RestoreOutcome> {
  if (!isUuid(backupId)) return { kind: 'not_found' };
  const found = await client.query<{ image_name: string }>(
    'SELECT image_name FROM device_images_duplicates_backup WHERE backup_id = $1',
    [backupId],
  );
  const imageName = found.rows[0]?.image_name;
  if (imageName === undefined) return { kind: 'not_found' };
  const result = await client.query(restoreSql, [backupId]);
  return result.rowCount === 1 ? { kind: 'restored', imageName } : { kind: 'blocked', imageName };
}
