// I4 progress is kept (ARCHITECTURE.md §3): received_chunks never goes back — resume never resets it to 0, never
// deletes the row to re-insert it at 0, never deletes the chunks behind the count. Observed by the checker's own
// triggers (progress-audit.sql), installed before the run; without them: unknown. The cleanup migration's deletes
// (each row backed up first) are not losses, and the audit does not record them.
import { MAC_SQL, queryRows, type Db } from './db.ts';
import { PROGRESS_AUDIT_TABLE, progressAuditInstalled } from './progress-audit.ts';
import type { RunFacts } from './run-facts.ts';
import { evaluate, judge, unknown, type InvariantVerdict } from './verdict.ts';

export interface ProgressLoss {
  /** 'lowered': an UPDATE lowered received_chunks; 'row_deleted': a row with progress was deleted (not by the
   *  cleanup); 'chunks_deleted': stored chunks of an unfinished image were deleted. */
  readonly kind: 'lowered' | 'row_deleted' | 'chunks_deleted';
  readonly mac: string | null;
  readonly imageName: string | null;
  readonly imageId: string;
  readonly oldReceivedChunks: number | null;
  readonly newReceivedChunks: number | null;
  readonly oldStatus: string | null;
  readonly newStatus: string | null;
  /** For 'chunks_deleted': how many. */
  readonly chunksDeleted: number | null;
  readonly at: string;
}

export function checkProgressKept(db: Db, _facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I4', async () => {
    const installed = await progressAuditInstalled(db);
    if (!installed.table) {
      return unknown(
        'I4',
        `progress audit not installed (no ${PROGRESS_AUDIT_TABLE}): call installProgressAudit before the run`,
      );
    }
    const losses = await queryRows<ProgressLoss>(
      db,
      `SELECT a.kind, ${MAC_SQL('d.device_mac')} AS mac, coalesce(di.image_name, a.image_name) AS "imageName",
              a.image_id::text AS "imageId", a.old_received_chunks AS "oldReceivedChunks",
              a.new_received_chunks AS "newReceivedChunks", a.old_status AS "oldStatus", a.new_status AS "newStatus",
              a.chunks_deleted AS "chunksDeleted",
              to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
       FROM ${PROGRESS_AUDIT_TABLE} a
       LEFT JOIN device_images di ON di.image_id = a.image_id
       -- a deleted row: its device as the audit recorded it
       LEFT JOIN devices d ON d.device_id = coalesce(di.device_id, a.device_id)
       ORDER BY a.audit_id`,
    );
    const count = (kind: ProgressLoss['kind']) => losses.filter((l) => l.kind === kind).length;
    return judge(
      'I4',
      losses,
      {
        pass: '0 updates lowered received_chunks, 0 rows with progress deleted, 0 chunk deletes under an unfinished image',
        fail:
          `${losses.length} progress losses: ${count('lowered')} updates lowered received_chunks, ` +
          `${count('row_deleted')} rows with progress deleted (not by the cleanup), ` +
          `${count('chunks_deleted')} chunk deletes under an unfinished image`,
      },
      installed.trigger
        ? undefined
        : 'an audit trigger (on device_images, or on image_chunks) is missing, so later changes went unobserved',
    );
  });
}
