// I8 no phantoms (ARCHITECTURE.md §3): every device_images row is an image some device captured — its device's MAC
// captured an image under the row's wire name (metadata.image_name, else image_name) and, when the row's metadata
// carries the device's timestamp, at that capture timestamp. Rows of devices absent from the history are phantoms.
import { queryRows, requireTables, storedImagesCte, type Db } from './db.ts';
import type { RunFacts } from './run-facts.ts';
import { evaluate, judge, type InvariantVerdict } from './verdict.ts';

export interface Phantom {
  readonly mac: string | null;
  readonly imageName: string;
  readonly wireName: string;
  readonly captureTimestamp: string | null;
  readonly status: string | null;
  readonly imageId: string;
  readonly reason: string;
}

export function checkNoPhantoms(db: Db, facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I8', async () => {
    await requireTables(db, ['device_images', 'devices']);
    const captures = facts.captures;
    const rows = await queryRows<Omit<Phantom, 'reason'>>(
      db,
      `${storedImagesCte(false)},
       c AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS c(mac, image_name, capture_ts))
       SELECT img.mac, img.image_name AS "imageName", img.wire_name AS "wireName",
              img.capture_ts AS "captureTimestamp", img.status, img.image_id AS "imageId"
       FROM img
       WHERE NOT EXISTS (
         SELECT 1 FROM c
         WHERE c.mac = img.mac AND c.image_name = img.wire_name
           AND (img.capture_ts IS NULL OR c.capture_ts = img.capture_ts))
       ORDER BY img.mac, img.image_name, img.image_id`,
      [captures.map((c) => c.mac), captures.map((c) => c.imageName), captures.map((c) => c.captureTimestamp)],
    );
    const [{ total } = { total: 0 }] = await queryRows<{ total: number }>(
      db,
      `SELECT count(*)::int AS total FROM device_images`,
    );
    const devices = new Set(facts.macs);
    const phantoms: Phantom[] = rows.map((row) => ({ ...row, reason: phantomReason(row, facts, devices) }));
    return judge('I8', phantoms, {
      pass: `${total} image rows all match a capture (${captures.length} captures by ${devices.size} devices)`,
      fail: `${phantoms.length} of ${total} image rows match no capture`,
    });
  });
}

function phantomReason(row: Omit<Phantom, 'reason'>, facts: RunFacts, devices: ReadonlySet<string>): string {
  if (row.mac === null || !devices.has(row.mac)) return 'device not in the history';
  const named = facts.captures.filter((c) => c.mac === row.mac && c.imageName === row.wireName);
  if (named.length === 0) return `device never captured ${row.wireName}`;
  return `no capture of ${row.wireName} at ${row.captureTimestamp ?? 'null'} (captured at ${named.map((c) => c.captureTimestamp).join(', ')})`;
}
