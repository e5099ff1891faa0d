// The checker's access to the database: plain queries through a client or a pool, and the SQL fragments every
// invariant shares. The checker writes its own SQL; it never calls the pipeline's code or functions.
import type pg from 'pg';

/** A connected client or a pool: the checker only runs single statements, outside any transaction. */
export type Db = pg.ClientBase | pg.Pool;

export async function queryRows<R extends pg.QueryResultRow>(
  db: Db,
  text: string,
  values: readonly unknown[] = [],
): Promise<R[]> {
  // Both members of the union have the same `query(text, values)` overload; TS cannot call a union of overloads.
  const result = await (db as pg.Pool).query<R>(text, values as unknown[]);
  return result.rows;
}

/** Which of `tables` exist (resolved on the session's search_path, as the pipeline resolves them). */
export async function existingTables(db: Db, tables: readonly string[]): Promise<Set<string>> {
  const rows = await queryRows<{ name: string; present: boolean }>(
    db,
    `SELECT t.name, to_regclass(t.name) IS NOT NULL AS present FROM unnest($1::text[]) AS t(name)`,
    [tables],
  );
  return new Set(rows.filter((r) => r.present).map((r) => r.name));
}

/** Throws (→ `unknown`) with a message that names what is missing. */
export async function requireTables(db: Db, tables: readonly string[]): Promise<void> {
  const present = await existingTables(db, tables);
  const missing = tables.filter((t) => !present.has(t));
  if (missing.length > 0) throw new Error(`table ${missing.join(', ')} does not exist`);
}

/**
 * A device id as the server normalises it (PROTOCOL.md §1): separators `:` `-` and spaces dropped, upper case.
 * Applied to both the history and `devices.device_mac`, so the two are compared the same way.
 */
export function normalizeMac(mac: string): string {
  return mac.toUpperCase().replace(/[:\- ]/g, '');
}

/** The SQL twin of normalizeMac. */
export const MAC_SQL = (column: string) => `upper(translate(${column}, ':- ', ''))`;

/**
 * CTEs `dev` (device_id, mac) and `img`: every device_images row with its device's normalised MAC, its WIRE name
 * (metadata.image_name — a disambiguated row keeps the wire name there — else image_name), the device's capture
 * timestamp from its metadata, and, when image_blobs exists, facts about its assembled bytes computed here (the
 * stored sha256 column is not trusted).
 */
export function storedImagesCte(withBlobs: boolean): string {
  const blobColumns = withBlobs
    ? `b.image_id IS NOT NULL AS has_blob,
       encode(sha256(b.bytes), 'hex') AS blob_sha256,
       octet_length(b.bytes) AS blob_bytes,
       substring(b.bytes FROM 1 FOR 3) = decode('ffd8ff', 'hex') AS blob_soi,
       octet_length(b.bytes) >= 2
         AND substring(b.bytes FROM octet_length(b.bytes) - 1 FOR 2) = decode('ffd9', 'hex') AS blob_eoi`
    : `NULL::boolean AS has_blob, NULL::text AS blob_sha256, NULL::integer AS blob_bytes,
       NULL::boolean AS blob_soi, NULL::boolean AS blob_eoi`;
  return `
WITH dev AS (
  SELECT device_id, ${MAC_SQL('device_mac')} AS mac FROM devices
), img AS MATERIALIZED (
  SELECT di.image_id::text AS image_id, dev.mac, di.image_name,
         coalesce(di.metadata ->> 'image_name', di.image_name) AS wire_name,
         coalesce(di.metadata ->> 'timestamp', di.metadata ->> 'capture_timestamp',
                  di.metadata ->> 'capture_timeStamp') AS capture_ts,
         di.status, di.received_chunks, di.total_chunks, di.image_size,
         ${blobColumns}
  FROM device_images di
  LEFT JOIN dev ON dev.device_id = di.device_id
  ${withBlobs ? 'LEFT JOIN image_blobs b ON b.image_id = di.image_id' : ''}
)`;
}

/** A stored row as the `img` CTE gives it. */
export interface StoredImageRow {
  readonly image_id: string;
  readonly mac: string | null;
  readonly image_name: string;
  readonly wire_name: string;
  readonly capture_ts: string | null;
  readonly status: string | null;
  readonly received_chunks: number | null;
  readonly total_chunks: number | null;
  readonly image_size: number | null;
  readonly has_blob: boolean | null;
  readonly blob_sha256: string | null;
  readonly blob_bytes: number | null;
  readonly blob_soi: boolean | null;
  readonly blob_eoi: boolean | null;
}

const storedImageColumns = [
  'image_id',
  'mac',
  'image_name',
  'wire_name',
  'capture_ts',
  'status',
  'received_chunks',
  'total_chunks',
  'image_size',
  'has_blob',
  'blob_sha256',
  'blob_bytes',
  'blob_soi',
  'blob_eoi',
] as const satisfies readonly (keyof StoredImageRow)[];

export const STORED_IMAGE_COLUMNS = storedImageColumns.join(', ');

/** A row of `img` (alias `alias`) as a JSON object with StoredImageRow's keys. */
export function storedImageJson(alias: string): string {
  return `json_build_object(${storedImageColumns.map((c) => `'${c}', ${alias}.${c}`).join(', ')})`;
}

/** A short, readable account of a stored row, for offending items. */
export function describeStored(row: StoredImageRow): string {
  const progress = `${row.received_chunks ?? 'null'}/${row.total_chunks ?? 'null'}`;
  const name = row.image_name === row.wire_name ? row.image_name : `${row.image_name} (wire ${row.wire_name})`;
  const blob =
    row.has_blob === null ? '' : row.has_blob ? `, blob sha256 ${(row.blob_sha256 ?? '').slice(0, 12)}…` : ', no blob';
  return `${name}: ${row.status ?? 'null'} ${progress}${blob}`;
}
