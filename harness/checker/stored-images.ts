// "Is this capture stored complete with its bytes?" — shared by I2 (dequeued images) and I5 (every capture).
// Judged by the hash of the assembled bytes computed in SQL, against any complete row of the same device (a
// capture under a reused name is stored under a disambiguated name, so the name alone cannot find it).
import { describeStored, queryRows, storedImageJson, storedImagesCte, type Db, type StoredImageRow } from './db.ts';

export interface ExpectedImage {
  readonly mac: string;
  readonly imageName: string;
  readonly sha256: string;
  /** The device's capture timestamp, when the history recorded the capture: narrows the by-name fallback. */
  readonly captureTimestamp?: string | undefined;
}

export interface MissingImage {
  readonly mac: string;
  readonly imageName: string;
  readonly sha256: string;
  /** What the database holds for that device under that (wire) name. */
  readonly found: string;
}

export interface StoredCheck {
  /** Proven not stored: no complete row of the device has these bytes (or, without blobs, no complete row by wire name and capture timestamp). */
  readonly missing: readonly MissingImage[];
  /** Without image_blobs: how many had a complete row (by name and timestamp) whose bytes could not be checked. */
  readonly unverified: number;
}

export async function checkStoredComplete(
  db: Db,
  expected: readonly ExpectedImage[],
  withBlobs: boolean,
): Promise<StoredCheck> {
  if (expected.length === 0) return { missing: [], unverified: 0 };
  const matches = withBlobs
    ? `img.status = 'complete' AND img.blob_sha256 = e.sha256`
    : `img.status = 'complete' AND img.wire_name = e.image_name
       AND (e.capture_ts IS NULL OR img.capture_ts IS NULL OR img.capture_ts = e.capture_ts)`;
  // A join on the device then a GROUP BY, not a subquery per image: runs have thousands of captures.
  const rows = await queryRows<{
    ord: number;
    found: StoredImageRow[] | null;
  }>(
    db,
    `${storedImagesCte(withBlobs)},
     e AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
                       AS e(mac, image_name, sha256, capture_ts, ord))
     SELECT e.ord::int AS ord,
            json_agg(${storedImageJson('img')} ORDER BY img.image_name)
              FILTER (WHERE img.wire_name = e.image_name OR img.image_name = e.image_name) AS found
     FROM e
     LEFT JOIN img ON img.mac = e.mac
     GROUP BY e.ord
     HAVING NOT coalesce(bool_or(${matches}), false)
     ORDER BY e.ord`,
    [
      expected.map((x) => x.mac),
      expected.map((x) => x.imageName),
      expected.map((x) => x.sha256),
      expected.map((x) => x.captureTimestamp ?? null),
    ],
  );
  const missing: MissingImage[] = [];
  for (const row of rows) {
    const item = expected[row.ord - 1];
    if (item === undefined) continue;
    missing.push({
      mac: item.mac,
      imageName: item.imageName,
      sha256: item.sha256,
      found: row.found === null ? 'no row of this device under that name' : row.found.map(describeStored).join('; '),
    });
  }
  return { missing, unverified: withBlobs ? 0 : expected.length - missing.length };
}
