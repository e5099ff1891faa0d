// The ACK_OKs owed (schema/004_pipeline.sql, image_acks_owed): written by completeImages in the completing
// transaction, deleted here once the broker has taken the ACK_OK, and read by a pipeline that starts again after a
// crash, which sends whatever its predecessor committed but never acknowledged.
import type { Sql } from '../../world/sql.ts';

export interface OwedAckRow {
  readonly imageId: string;
  readonly mac: string;
  readonly wireName: string;
  readonly dialect: string;
  /** The wake time the ACK_OK was to announce (ms), or null for the default. */
  readonly nextWakeAtMs: number | null;
  /** The acknowledged capture's timestamp and size, from the route that still names it (image_transfers). */
  readonly captureTimestamp: string;
  readonly imageSize: number;
}

/** At most this many owed ACKs are sent at a start; any more wait for their devices' re-sends (found complete). */
export const OWED_ACKS_AT_START_MAX = 10_000;

/**
 * Owed ACKs older than this are not sent but dropped: longer than a device waits for an ACK within one wake (its
 * re-sends at 10 s each), so a device still awake gets it, while one that has slept since re-sends next wake and is
 * answered as found complete. The v3.5.0 ACK_OK names only the image (README: known hazard), so a late ACK could
 * dequeue a newer capture under a reused name: the fewer stale ACKs sent, the better.
 */
export const OWED_ACK_SEND_WITHIN_MS = 2 * 60_000;

/**
 * The ACKs to send at a start, oldest first: owed for an image still complete whose device's route for that wire
 * name still points at it (a newer capture under the same name, after a counter reset, moves the route on: its
 * ACK would name the wrong capture). Rows that no longer qualify, or are older than `withinMs`, are deleted.
 */
export async function takeOwedAcks(db: Sql, withinMs = OWED_ACK_SEND_WITHIN_MS): Promise<OwedAckRow[]> {
  const sendable = `FROM image_acks_owed o
     JOIN device_images di ON di.image_id = o.image_id AND di.status = 'complete'
     JOIN image_transfers t ON t.device_id = di.device_id AND t.wire_name = o.wire_name AND t.image_id = o.image_id
     WHERE o.owed_since >= now() - make_interval(secs => $1::double precision / 1000)`;
  await db.query(`DELETE FROM image_acks_owed x WHERE NOT EXISTS (SELECT 1 ${sendable} AND o.image_id = x.image_id)`, [
    withinMs,
  ]);
  const { rows } = await db.query<{
    image_id: string;
    device_mac: string;
    wire_name: string;
    dialect: string;
    next_wake_ms: string | null;
    capture_timestamp: string;
    image_size: number;
  }>(
    `SELECT o.image_id::text, o.device_mac, o.wire_name, o.dialect,
            (extract(epoch FROM o.next_wake_at) * 1000)::bigint::text AS next_wake_ms, t.capture_timestamp, t.image_size
     ${sendable}
     ORDER BY o.owed_since, o.image_id
     LIMIT $2`,
    [withinMs, OWED_ACKS_AT_START_MAX],
  );
  return rows.map((r) => ({
    imageId: r.image_id,
    mac: r.device_mac,
    wireName: r.wire_name,
    dialect: r.dialect,
    nextWakeAtMs: r.next_wake_ms === null ? null : Number(r.next_wake_ms),
    captureTimestamp: r.capture_timestamp,
    imageSize: r.image_size,
  }));
}
/** The broker has these ACK_OKs: nothing is owed for them any more. */
export async function settleOwedAcks(db: Sql, imageIds: readonly string[]): Promise<void> {
  if (imageIds.length === 0) return;
  await db.query('DELETE FROM image_acks_owed WHERE image_id = ANY ($1::uuid[])', [imageIds]);
}
