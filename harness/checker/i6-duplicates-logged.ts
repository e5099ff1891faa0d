// I6 duplicates are logged, not stored (ARCHITECTURE.md §3): an image a device re-announces after it was settled
// (dequeued, or its ACK_OK observed while complete) adds a duplicate_images_log row and no image row.
// A row "holds" the capture when its blob hashes to the capture's sha256, or its wire name and capture timestamp
// are the capture's (a second row for the re-send has them too, whatever the pipeline named it).
import { existingTables, queryRows, requireTables, storedImagesCte, type Db } from './db.ts';
import { captureOf, type RunFacts } from './run-facts.ts';
import { evaluate, failed, passed, unknown, type InvariantVerdict } from './verdict.ts';

export interface DuplicateProblem {
  readonly mac: string;
  readonly imageName: string;
  readonly sha256: string;
  readonly reannouncements: number;
  readonly problems: readonly string[];
  /** The rows that hold this capture. */
  readonly rows: readonly { readonly imageId: string; readonly imageName: string; readonly status: string | null }[];
}

export function checkDuplicatesLogged(db: Db, facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I6', async () => {
    const reannounced = facts.reannouncements;
    if (reannounced.length === 0) return passed('I6', '0 re-announcements');
    await requireTables(db, ['device_images', 'devices']);
    const present = await existingTables(db, ['image_blobs', 'duplicate_images_log']);
    const withBlobs = present.has('image_blobs');
    const withLog = present.has('duplicate_images_log');

    const logCount = withLog
      ? `(SELECT count(*)::int FROM duplicate_images_log l JOIN dev ON dev.device_id = l.device_id
          WHERE dev.mac = r.mac
            AND (l.image_name = r.image_name OR l.image_name = ANY (h.names) OR l.image_id::text = ANY (h.ids)))`
      : 'NULL::int';
    const rows = await queryRows<{
      ord: number;
      holders: { imageId: string; imageName: string; status: string | null }[];
      log_rows: number | null;
    }>(
      db,
      `${storedImagesCte(withBlobs)},
       r AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
                         AS r(mac, image_name, sha256, capture_ts, ord))
       SELECT r.ord::int AS ord, h.holders, ${logCount} AS log_rows
       FROM r
       CROSS JOIN LATERAL (
         SELECT coalesce(json_agg(json_build_object('imageId', img.image_id, 'imageName', img.image_name,
                                                    'status', img.status) ORDER BY img.image_name), '[]'::json) AS holders,
                coalesce(array_agg(img.image_name), '{}') AS names,
                coalesce(array_agg(img.image_id), '{}') AS ids
         FROM img
         WHERE img.mac = r.mac
           AND (img.blob_sha256 = r.sha256
                OR (img.wire_name = r.image_name
                    AND (img.capture_ts IS NULL OR r.capture_ts IS NULL OR img.capture_ts = r.capture_ts)))
       ) AS h
       ORDER BY r.ord`,
      [
        reannounced.map((r) => r.mac),
        reannounced.map((r) => r.imageName),
        reannounced.map((r) => r.sha256),
        reannounced.map((r) => captureOf(facts, r.mac, r.sha256)?.captureTimestamp ?? null),
      ],
    );

    const offending: DuplicateProblem[] = [];
    for (const row of rows) {
      const item = reannounced[row.ord - 1];
      if (item === undefined) continue;
      const problems: string[] = [];
      if (row.holders.length !== 1) problems.push(`${row.holders.length} image rows hold this capture, expected 1`);
      if (withLog && (row.log_rows ?? 0) === 0) problems.push('no duplicate_images_log row for it');
      if (problems.length > 0) {
        offending.push({
          mac: item.mac,
          imageName: item.imageName,
          sha256: item.sha256,
          reannouncements: item.sends,
          problems,
          rows: row.holders,
        });
      }
    }
    const sends = reannounced.reduce((n, r) => n + r.sends, 0);
    const counted = `${reannounced.length} images re-announced (${sends} re-announcements)`;
    if (offending.length > 0)
      return failed('I6', `${offending.length} of ${counted} stored or logged wrongly`, offending);
    if (!withLog) {
      return unknown(
        'I6',
        `${counted}, each held by exactly one row; log not checkable: table duplicate_images_log does not exist (pre-resume stage)`,
      );
    }
    return passed('I6', `${counted}, each held by exactly one row and logged`);
  });
}
