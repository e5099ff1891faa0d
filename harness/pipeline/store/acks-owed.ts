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
}

/** At most this many owed ACKs are sent at a start; any more wait for their devices' re-sends (found complete). */
export const OWED_ACKS_AT_START_MAX = 10_000;

export async function listOwedAcks(db: Sql): Promise<OwedAckRow[]> {
  const { rows } = await db.query<{
    image_id: string;
    device_mac: string;
    wire_name: string;
    dialect: string;
    next_wake_ms: string | null;
  }>(
    `SELECT o.image_id::text, o.device_mac, o.wire_name, o.dialect,
            (extract(epoch FROM o.next_wake_at) * 1000)::bigint::text AS next_wake_ms
     FROM image_acks_owed o JOIN device_images di ON di.image_id = o.image_id AND di.status = 'complete'
     ORDER BY o.owed_since, o.image_id
     LIMIT $1`,
    [OWED_ACKS_AT_START_MAX],
  );
  return rows.map((r) => ({
    imageId: r.image_id,
    mac: r.device_mac,
    wireName: r.wire_name,
    dialect: r.dialect,
    nextWakeAtMs: r.next_wake_ms === null ? null : Number(r.next_wake_ms),
  }));
}

/** The broker has these ACK_OKs: nothing is owed for them any more. */
export async function settleOwedAcks(db: Sql, imageIds: readonly string[]): Promise<void> {
  if (imageIds.length === 0) return;
  await db.query('DELETE FROM image_acks_owed WHERE image_id = ANY ($1::uuid[])', [imageIds]);
}
