// I4 progress is kept (ARCHITECTURE.md §3): received_chunks never goes back — resume never resets it to 0.
// Observed by the checker's own trigger (progress-audit.sql), installed before the run; without it: unknown.
import { MAC_SQL, queryRows, type Db } from './db.ts';
import { PROGRESS_AUDIT_TABLE, progressAuditInstalled } from './progress-audit.ts';
import type { RunFacts } from './run-facts.ts';
import { evaluate, judge, unknown, type InvariantVerdict } from './verdict.ts';

export interface ProgressLoss {
  readonly mac: string | null;
  readonly imageName: string | null;
  readonly imageId: string;
  readonly oldReceivedChunks: number | null;
  readonly newReceivedChunks: number | null;
  readonly oldStatus: string | null;
  readonly newStatus: string | null;
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
      `SELECT ${MAC_SQL('d.device_mac')} AS mac, di.image_name AS "imageName",
              a.image_id::text AS "imageId", a.old_received_chunks AS "oldReceivedChunks",
              a.new_received_chunks AS "newReceivedChunks", a.old_status AS "oldStatus", a.new_status AS "newStatus",
              to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
       FROM ${PROGRESS_AUDIT_TABLE} a
       LEFT JOIN device_images di ON di.image_id = a.image_id
       LEFT JOIN devices d ON d.device_id = di.device_id
       ORDER BY a.audit_id`,
    );
    return judge(
      'I4',
      losses,
      {
        pass: '0 updates lowered received_chunks',
        fail: `${losses.length} updates lowered received_chunks`,
      },
      installed.trigger ? undefined : 'the audit trigger on device_images is missing, so later updates went unobserved',
    );
  });
}
