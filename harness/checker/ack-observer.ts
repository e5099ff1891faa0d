// The device side of I7 (ack after durability): at the moment a device receives an ACK_OK, is one of the captures
// it names already stored complete? The run asks this for every ACK a device gets (the `ack_observed` event), with
// the checker's own SQL — never the pipeline's code — on whatever connection the world gives (a pool live, the gate
// in sim, so the question is a step of the schedule like every other statement).
import type { Sql } from '../world/sql.ts';

const STORED_COMPLETE_SQL = `SELECT EXISTS (
    SELECT 1 FROM device_images di JOIN devices d ON d.device_id = di.device_id
    JOIN image_blobs b ON b.image_id = di.image_id
    WHERE d.device_mac = $1 AND di.status = 'complete' AND b.sha256 = ANY($2::text[])) AS ok`;

/** Whether a capture of `mac` with one of these sha256s is stored complete (its bytes assembled) right now. */
export async function storedCompleteNow(sql: Sql, mac: string, sha256s: readonly string[]): Promise<boolean> {
  const { rows } = await sql.query<{ ok: boolean }>(STORED_COMPLETE_SQL, [mac, [...sha256s]]);
  return rows[0]?.ok ?? false;
}
