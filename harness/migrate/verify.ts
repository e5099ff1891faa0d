// The seed guide's "Verification After Both Steps": its four queries, each judged PASS or FAIL.
import type pg from 'pg';

export interface VerifyCheck {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

export const verifyQueries = {
  noDuplicates: `SELECT device_id, image_name, COUNT(*) as count
FROM device_images
GROUP BY device_id, image_name
HAVING COUNT(*) > 1`,
  constraintExists: `SELECT conname, contype
FROM pg_constraint
WHERE conname = 'device_images_device_id_image_name_key'`,
  backedUpCount: `SELECT COUNT(*) as backed_up_count
FROM device_images_duplicates_backup`,
  helperFunctions: `SELECT routine_name
FROM information_schema.routines
WHERE routine_name IN (
  'fn_check_image_resumable',
  'fn_log_duplicate_image',
  'fn_wake_ingestion_handler'
)`,
} as const;

async function tryQuery(client: pg.ClientBase, sql: string): Promise<{ rows: Record<string, unknown>[] } | string> {
  try {
    return await client.query(sql);
  } catch (error) {
    return (error as Error).message;
  }
}

export async function runVerification(client: pg.ClientBase): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  const dup = await tryQuery(client, verifyQueries.noDuplicates);
  checks.push(
    typeof dup === 'string'
      ? { name: '1. no duplicates remain', pass: false, detail: dup }
      : {
          name: '1. no duplicates remain',
          pass: dup.rows.length === 0,
          detail: `${dup.rows.length} duplicate groups (expected 0)`,
        },
  );
  const con = await tryQuery(client, verifyQueries.constraintExists);
  checks.push(
    typeof con === 'string'
      ? { name: '2. UNIQUE constraint exists', pass: false, detail: con }
      : {
          name: '2. UNIQUE constraint exists',
          pass: con.rows.length === 1 && con.rows[0]?.contype === 'u',
          detail: `${con.rows.length} row(s) for device_images_device_id_image_name_key (expected 1, contype u)`,
        },
  );
  const backup = await tryQuery(client, verifyQueries.backedUpCount);
  checks.push(
    typeof backup === 'string'
      ? { name: '3. backup table holds the removed duplicates', pass: false, detail: backup }
      : {
          name: '3. backup table holds the removed duplicates',
          pass: true,
          detail: `${String(backup.rows[0]?.backed_up_count)} row(s) backed up`,
        },
  );
  const fns = await tryQuery(client, verifyQueries.helperFunctions);
  checks.push(
    typeof fns === 'string'
      ? { name: '4. helper functions exist', pass: false, detail: fns }
      : {
          name: '4. helper functions exist',
          pass: fns.rows.length === 3,
          detail: `${fns.rows.length} of 3 (${fns.rows.map((r) => String(r.routine_name)).join(', ') || 'none'})`,
        },
  );
  return checks;
}
