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

export function integrityProblems(row: StoredImageRow, captured: ReadonlySet<string>, withBlobs: boolean): string[] {
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
  if (row.blob_sha256 === null || !captured.has(`${row.mac ?? ''}|${row.blob_sha256}`)) {
    problems.push(`blob sha256 ${(row.blob_sha256 ?? 'null').slice(0, 12)}… is no capture of device ${row.mac ?? '?'}`);
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
    const captured = new Set(facts.captures.map((c) => `${c.mac}|${c.sha256}`));
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
