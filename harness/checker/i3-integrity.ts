// I3 integrity (ARCHITECTURE.md §3): a complete row has received_chunks = total_chunks and a blob of exactly
// image_size bytes that starts FF D8 FF and ends FF D9 (PROTOCOL.md §1), and whose sha256 is that of a capture of
// the same device — so no stored image mixes chunks of two captures. A complete row without a blob fails.
import {
  existingTables,
  queryRows,
  requireTables,
  STORED_IMAGE_COLUMNS,
  storedImagesCte,
  type Db,
  type StoredImageRow,
} from './db.ts';
import type { RunFacts } from './run-facts.ts';
import { evaluate, judge, type InvariantVerdict } from './verdict.ts';

export interface IntegrityProblem {
  readonly mac: string | null;
  readonly imageName: string;
  readonly imageId: string;
  readonly problems: readonly string[];
}

/** Which captures a row may hold: any of its device's (`mac|sha256`), and — when the row names its capture by
 *  wire name and device timestamp — exactly the captures with that identity (`mac|wire name|timestamp` → sha256s). */
export interface CaptureIndex {
  readonly byDevice: ReadonlySet<string>;
  readonly byIdentity: ReadonlyMap<string, ReadonlySet<string>>;
}

export function captureIndex(facts: RunFacts): CaptureIndex {
  const byIdentity = new Map<string, Set<string>>();
  for (const c of facts.captures) {
    const key = `${c.mac}|${c.imageName}|${c.captureTimestamp}`;
    let shas = byIdentity.get(key);
    if (!shas) byIdentity.set(key, (shas = new Set()));
    shas.add(c.sha256);
  }
  return { byDevice: new Set(facts.captures.map((c) => `${c.mac}|${c.sha256}`)), byIdentity };
}

export function integrityProblems(row: StoredImageRow, captures: CaptureIndex, withBlobs: boolean): string[] {
  const problems: string[] = [];
  if (row.received_chunks === null || row.total_chunks === null || row.received_chunks !== row.total_chunks) {
    problems.push(`received_chunks ${row.received_chunks ?? 'null'} ≠ total_chunks ${row.total_chunks ?? 'null'}`);
  }
  if (!withBlobs) return problems;
  if (row.has_blob !== true) {
    problems.push('no blob');
    return problems;
  }
  if (row.blob_bytes !== row.image_size) {
    problems.push(`blob is ${row.blob_bytes ?? 'null'} bytes, image_size ${row.image_size ?? 'null'}`);
  }
  if (row.blob_soi !== true) problems.push('blob does not start FF D8 FF');
  if (row.blob_eoi !== true) problems.push('blob does not end FF D9');
  const sha = row.blob_sha256;
  const ownCapture =
    row.capture_ts === null
      ? undefined
      : captures.byIdentity.get(`${row.mac ?? ''}|${row.wire_name}|${row.capture_ts}`);
  if (sha === null || !captures.byDevice.has(`${row.mac ?? ''}|${sha}`)) {
    problems.push(`blob sha256 ${(sha ?? 'null').slice(0, 12)}… is no capture of device ${row.mac ?? '?'}`);
  } else if (ownCapture !== undefined && !ownCapture.has(sha)) {
    // The bytes belong to the device, but to another capture than the one this row announces (e.g. swapped after
    // a name reuse).
    problems.push(
      `blob sha256 ${sha.slice(0, 12)}… is another capture's, not ${row.wire_name} taken ${row.capture_ts}`,
    );
  }
  return problems;
}

export function checkIntegrity(db: Db, facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I3', async () => {
    await requireTables(db, ['device_images', 'devices']);
    const withBlobs = (await existingTables(db, ['image_blobs'])).has('image_blobs');
    const rows = await queryRows<StoredImageRow>(
      db,
      `${storedImagesCte(withBlobs)}
       SELECT ${STORED_IMAGE_COLUMNS} FROM img WHERE status = 'complete' ORDER BY mac, image_name, image_id`,
    );
    const captured = captureIndex(facts);
    const offending: IntegrityProblem[] = [];
    for (const row of rows) {
      const problems = integrityProblems(row, captured, withBlobs);
      if (problems.length > 0) {
        offending.push({ mac: row.mac, imageName: row.image_name, imageId: row.image_id, problems });
      }
    }
    return judge(
      'I3',
      offending,
      {
        pass: `${rows.length} complete rows all whole${withBlobs ? ', sized, JPEG-marked and hashing to a capture' : ''}`,
        fail: `${offending.length} of ${rows.length} complete rows broken`,
      },
      withBlobs || rows.length === 0 ? undefined : 'bytes not checkable: table image_blobs does not exist',
    );
  });
}
