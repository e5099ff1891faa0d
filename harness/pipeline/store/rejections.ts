// rejected_messages: every refused message, with its code and reason (bad input is recorded, never silently
// dropped). Written in batches.
import type { Sql } from '../../world/sql.ts';

// The row is the core's record of a refusal (core/rejection.ts).
import type { RejectionRecord } from '../core/rejection.ts';
export type RejectionRow = RejectionRecord;

export async function insertRejections(db: Sql, rows: readonly RejectionRow[]): Promise<void> {
  await db.query(
    `INSERT INTO rejected_messages (topic, device_mac, code, reason, payload_bytes, payload_excerpt, messages)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::int[])`,
    [
      rows.map((r) => r.topic),
      rows.map((r) => r.deviceMac),
      rows.map((r) => r.code),
      rows.map((r) => r.reason),
      rows.map((r) => r.payloadBytes),
      rows.map((r) => r.payloadExcerpt),
      rows.map((r) => r.messages),
    ],
  );
}
