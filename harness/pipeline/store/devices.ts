// devices: find a device by its normalised MAC, or auto-provision it (PROTOCOL.md §6: device_code
// DEVICE-ESP32S3-NNN = first free zero-padded number, provisioning_status 'pending_mapping', is_active false).
import type { Database, Sql } from '../../world/sql.ts';

/** Serialises code allocation between every writer that uses it (several pipeline instances included). */
const DEVICE_CODE_LOCK = 0x63616d66; // 'camf'

/** The stored MAC compared the way the server normalises it, so rows written as `98:a3:…` still match. */
const NORMALISED_MAC = `upper(translate(d.device_mac, ':- ', ''))`;

/**
 * Creates the devices of `macs` that do not exist yet, numbering them with the first free codes, all in one
 * transaction under an advisory lock (so concurrent provisioning never picks the same number). Returns every
 * MAC's device id, and how many rows were created.
 */
export async function provisionDevices(
  db: Database,
  macs: readonly string[],
): Promise<{ ids: Map<string, string>; created: number }> {
  return db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [DEVICE_CODE_LOCK]);
    // A fresh statement after the lock: its snapshot sees every code committed by the previous holder.
    const code = (n: string) => `'DEVICE-ESP32S3-' || lpad(${n}::text, greatest(3, length(${n}::text)), '0')`;
    const inserted = await client.query<{ device_id: string }>(
      `WITH wanted AS (
         SELECT m.mac, row_number() OVER (ORDER BY m.ord) AS ord
         FROM unnest($1::text[]) WITH ORDINALITY AS m(mac, ord)
         WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE ${NORMALISED_MAC} = m.mac)
       ), free AS (
         SELECT n, row_number() OVER (ORDER BY n) AS ord
         FROM generate_series(1, (SELECT count(*) FROM devices)::int + $2::int) AS n
         WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.device_code = ${code('n')})
       )
       INSERT INTO devices (device_mac, device_code, provisioning_status, is_active, last_seen_at)
       SELECT w.mac, ${code('f.n')}, 'pending_mapping', false, now()
       FROM wanted w JOIN free f ON f.ord = w.ord
       ON CONFLICT (device_mac) DO NOTHING
       RETURNING device_id::text`,
      [macs, macs.length],
    );
    const found = await client.query<{ mac: string; device_id: string }>(
      `SELECT DISTINCT ON (${NORMALISED_MAC}) ${NORMALISED_MAC} AS mac, d.device_id::text
       FROM devices d WHERE ${NORMALISED_MAC} = ANY ($1::text[])
       ORDER BY ${NORMALISED_MAC}, d.created_at`,
      [macs],
    );
    return { ids: new Map(found.rows.map((r) => [r.mac, r.device_id])), created: inserted.rowCount };
  });
}

export interface DeviceSighting {
  readonly deviceId: string;
  readonly firmwareVersion?: string | undefined;
  readonly hardwareVersion?: string | undefined;
  readonly batteryVoltage?: number | undefined;
  readonly wifiRssi?: number | undefined;
}

/** last_seen_at now, and whatever each device reported (absent fields keep their value). One statement. */
export async function touchDevices(db: Sql, sightings: readonly DeviceSighting[]): Promise<void> {
  await db.query(
    `UPDATE devices d SET last_seen_at = now(), updated_at = now(),
       firmware_version = coalesce(u.firmware_version, d.firmware_version),
       hardware_version = coalesce(u.hardware_version, d.hardware_version),
       battery_voltage = coalesce(u.battery_voltage, d.battery_voltage),
       wifi_rssi = coalesce(u.wifi_rssi, d.wifi_rssi)
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::int[])
       AS u(device_id, firmware_version, hardware_version, battery_voltage, wifi_rssi)
     WHERE d.device_id = u.device_id`,
    [
      sightings.map((s) => s.deviceId),
      sightings.map((s) => textOrNull(s.firmwareVersion)),
      sightings.map((s) => textOrNull(s.hardwareVersion)),
      sightings.map((s) =>
        s.batteryVoltage !== undefined && Number.isFinite(s.batteryVoltage) ? s.batteryVoltage : null,
      ),
      sightings.map((s) => int32OrNull(s.wifiRssi)),
    ],
  );
}

/** Postgres text cannot hold NUL; a device string is kept without them. */
function textOrNull(s: string | undefined): string | null {
  return s === undefined ? null : s.replaceAll('\u0000', '');
}

function int32OrNull(n: number | undefined): number | null {
  if (n === undefined) return null;
  const r = Math.round(n);
  return r >= -2_147_483_648 && r <= 2_147_483_647 ? r : null;
}
