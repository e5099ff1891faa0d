// The progress audit behind I4 (ARCHITECTURE.md §3): a table and triggers, installed before a run, that record every
// update lowering received_chunks, every delete of an image row with progress (except the cleanup migration's
// backed-up deletes) and every delete of chunks under an unfinished image. See progress-audit.sql.
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { queryRows, type Db } from './db.ts';

export const PROGRESS_AUDIT_TABLE = 'camfleet_progress_audit';
export const PROGRESS_AUDIT_TRIGGER = 'camfleet_progress_audit_trigger';
export const PROGRESS_AUDIT_DELETE_TRIGGER = 'camfleet_progress_audit_delete_trigger';
export const PROGRESS_AUDIT_CHUNKS_TRIGGER = 'camfleet_progress_audit_chunks_trigger';

export function progressAuditSql(): string {
  return readFileSync(new URL('./progress-audit.sql', import.meta.url), 'utf8');
}

/**
 * Installs (or re-installs) the audit; idempotent. Needs device_images (schema stage base or later). The file holds
 * BEGIN … COMMIT, so it runs on one client (a pool lends one); on failure the transaction is rolled back and the
 * error rethrown.
 */
export async function installProgressAudit(db: Db): Promise<void> {
  if (isPool(db)) {
    const client = await db.connect();
    try {
      await installOn(client);
    } finally {
      client.release();
    }
    return;
  }
  await installOn(db);
}

async function installOn(client: pg.ClientBase): Promise<void> {
  try {
    await client.query(progressAuditSql());
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

function isPool(db: Db): db is pg.Pool {
  return 'totalCount' in db && 'idleCount' in db;
}

/**
 * Is the audit in place: its table, and all its triggers (on device_images; on image_chunks when that table exists —
 * created after the audit was installed, its deletes went unobserved)?
 */
export async function progressAuditInstalled(db: Db): Promise<{ table: boolean; trigger: boolean }> {
  const rows = await queryRows<{ has_table: boolean; has_triggers: boolean }>(
    db,
    `WITH t AS (
       SELECT tgname, tgrelid FROM pg_trigger WHERE NOT tgisinternal
     )
     SELECT to_regclass($1) IS NOT NULL AS has_table,
            EXISTS (SELECT 1 FROM t WHERE tgname = $2 AND tgrelid = to_regclass('device_images'))
            AND EXISTS (SELECT 1 FROM t WHERE tgname = $3 AND tgrelid = to_regclass('device_images'))
            AND (to_regclass('image_chunks') IS NULL
                 OR EXISTS (SELECT 1 FROM t WHERE tgname = $4 AND tgrelid = to_regclass('image_chunks')))
              AS has_triggers`,
    [PROGRESS_AUDIT_TABLE, PROGRESS_AUDIT_TRIGGER, PROGRESS_AUDIT_DELETE_TRIGGER, PROGRESS_AUDIT_CHUNKS_TRIGGER],
  );
  return { table: rows[0]?.has_table ?? false, trigger: rows[0]?.has_triggers ?? false };
}
