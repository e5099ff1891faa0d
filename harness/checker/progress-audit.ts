// The progress audit behind I4 (ARCHITECTURE.md §3): a table and an AFTER UPDATE trigger on device_images,
// installed before a run, that record every update lowering received_chunks. See progress-audit.sql.
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { queryRows, type Db } from './db.ts';

export const PROGRESS_AUDIT_TABLE = 'camfleet_progress_audit';
export const PROGRESS_AUDIT_TRIGGER = 'camfleet_progress_audit_trigger';

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

/** Is the audit in place: its table, and its trigger on device_images? */
export async function progressAuditInstalled(db: Db): Promise<{ table: boolean; trigger: boolean }> {
  const rows = await queryRows<{ has_table: boolean; has_trigger: boolean }>(
    db,
    `SELECT to_regclass($1) IS NOT NULL AS has_table,
            EXISTS (SELECT 1 FROM pg_trigger
                    WHERE tgname = $2 AND tgrelid = to_regclass('device_images') AND NOT tgisinternal) AS has_trigger`,
    [PROGRESS_AUDIT_TABLE, PROGRESS_AUDIT_TRIGGER],
  );
  return { table: rows[0]?.has_table ?? false, trigger: rows[0]?.has_trigger ?? false };
}
