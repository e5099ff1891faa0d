// Fills a base-stage database with duplicates shaped like production's (PROTOCOL.md §1, §6): one device with 41
// rows named image_1.jpg of mixed status, twelve more duplicate groups (so the default data reproduces the
// production figures: 13 groups, 78 rows, 65 to delete), ties on updated_at, NULL updated_at — plus ordinary
// unique images. Deterministic from the seed.
import type pg from 'pg';
import { createRng, type Rng } from '../../simulator/random/prng.ts';

export interface SeedDuplicatesOptions {
  readonly devices: number;
  readonly seed: number;
}

export interface SeedDuplicatesResult {
  readonly devices: number;
  readonly imageRows: number;
  readonly duplicateGroups: number;
  readonly duplicateRows: number;
}

interface ImageRow {
  device: number;
  name: string;
  status: string;
  capturedAtMs: number;
  updatedAtMs: number | null;
  totalChunks: number;
  receivedChunks: number;
  sizeBytes: number;
}

const statuses = ['complete', 'receiving', 'pending', 'failed'] as const;
/** Sizes of the twelve groups after the 41-copy one: 41 + 37 = 78 rows in 13 groups, as in production. */
const extraGroupSizes = [4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2];
const baseTimeMs = Date.UTC(2026, 0, 5, 8, 0, 0);
const hourMs = 3_600_000;

function macFor(rng: Rng): string {
  let mac = '';
  for (let i = 0; i < 6; i++) mac += rng.int(0, 255).toString(16).padStart(2, '0');
  return mac.toUpperCase();
}

function copyRow(
  rng: Rng,
  device: number,
  name: string,
  capturedAtMs: number,
  sharedUpdatedAtMs: number | null,
): ImageRow {
  const totalChunks = rng.int(20, 100);
  const status = rng.pick(statuses);
  const receivedChunks = status === 'complete' ? totalChunks : rng.int(0, totalChunks - 1);
  // One copy in three shares its group's updated_at (a tie); one in six has none at all.
  const roll = rng.next();
  const updatedAtMs = roll < 1 / 3 ? sharedUpdatedAtMs : roll < 1 / 2 ? null : capturedAtMs + rng.int(0, 48) * hourMs;
  return {
    device,
    name,
    status,
    capturedAtMs,
    updatedAtMs,
    totalChunks,
    receivedChunks,
    sizeBytes: totalChunks * 1024 - rng.int(0, 1023),
  };
}

export function planSeedDuplicates(options: SeedDuplicatesOptions): { macs: string[]; rows: ImageRow[] } {
  const rng = createRng(options.seed).fork('seed-duplicates');
  const deviceCount = Math.max(1, options.devices);
  const macs: string[] = [];
  const seen = new Set<string>();
  while (macs.length < deviceCount) {
    const mac = macFor(rng);
    if (seen.has(mac)) continue;
    seen.add(mac);
    macs.push(mac);
  }
  const rows: ImageRow[] = [];
  const nextImage = new Array<number>(deviceCount).fill(1);
  const addGroup = (device: number, copies: number) => {
    const n = nextImage[device] ?? 1;
    nextImage[device] = n + 1;
    const name = `image_${n}.jpg`;
    const shared = baseTimeMs + rng.int(0, 30 * 24) * hourMs;
    // A counter reset reuses the name for new pictures, a double send repeats the same capture.
    for (let i = 0; i < copies; i++) {
      const capturedAtMs = rng.chance(0.5) ? shared - hourMs : baseTimeMs + rng.int(0, 30 * 24) * hourMs;
      rows.push(copyRow(rng, device, name, capturedAtMs, shared));
    }
  };
  addGroup(0, 41);
  extraGroupSizes.forEach((copies, i) => addGroup((i + 1) % deviceCount, copies));
  // Ordinary, unique images on every device.
  for (let device = 0; device < deviceCount; device++) {
    const unique = rng.int(3, 12);
    for (let i = 0; i < unique; i++) {
      const n = nextImage[device] ?? 1;
      nextImage[device] = n + 1;
      const capturedAtMs = baseTimeMs + rng.int(0, 30 * 24) * hourMs;
      const totalChunks = rng.int(20, 100);
      rows.push({
        device,
        name: `image_${n}.jpg`,
        status: 'complete',
        capturedAtMs,
        updatedAtMs: capturedAtMs + rng.int(1, 600) * 1000,
        totalChunks,
        receivedChunks: totalChunks,
        sizeBytes: totalChunks * 1024 - rng.int(0, 1023),
      });
    }
  }
  return { macs, rows };
}

const batchRows = 5_000;

export async function seedDuplicates(
  client: pg.ClientBase,
  options: SeedDuplicatesOptions,
): Promise<SeedDuplicatesResult> {
  const { macs, rows } = planSeedDuplicates(options);
  await client.query('BEGIN');
  try {
    const company = await client.query<{ company_id: string }>(
      `INSERT INTO companies (name) VALUES ('camfleet demo company') RETURNING company_id`,
    );
    const companyId = company.rows[0]?.company_id;
    const program = await client.query<{ program_id: string }>(
      `INSERT INTO pilot_programs (company_id, name) VALUES ($1, 'camfleet demo program') RETURNING program_id`,
      [companyId],
    );
    const programId = program.rows[0]?.program_id;
    const site = await client.query<{ site_id: string }>(
      `INSERT INTO sites (company_id, program_id, name) VALUES ($1, $2, 'camfleet demo site') RETURNING site_id`,
      [companyId, programId],
    );
    const siteId = site.rows[0]?.site_id;
    const first = await client.query<{ n: number }>(
      `SELECT COALESCE(max(substring(device_code FROM 'DEVICE-ESP32S3-([0-9]+)')::int), 0) AS n FROM devices`,
    );
    const firstCode = (first.rows[0]?.n ?? 0) + 1;
    const devices = await client.query<{ device_id: string; device_mac: string }>(
      `INSERT INTO devices (device_mac, device_code, device_name, company_id, program_id, site_id,
                            provisioning_status, is_active, firmware_version)
       SELECT mac, 'DEVICE-ESP32S3-' || lpad((${firstCode} + ord - 1)::text, 3, '0'), 'seeded ' || mac, $2, $3, $4,
              'mapped', true, '3.5.0'
       FROM unnest($1::text[]) WITH ORDINALITY AS m(mac, ord)
       ON CONFLICT (device_mac) DO UPDATE SET updated_at = now()
       RETURNING device_id, device_mac`,
      [macs, companyId, programId, siteId],
    );
    const idByMac = new Map(devices.rows.map((r) => [r.device_mac, r.device_id]));
    for (let start = 0; start < rows.length; start += batchRows) {
      const batch = rows.slice(start, start + batchRows);
      await client.query(
        `INSERT INTO device_images (device_id, company_id, program_id, site_id, image_name, image_url, image_size,
                                    captured_at, received_at, total_chunks, received_chunks, status, metadata,
                                    created_at, updated_at)
         SELECT d, $2, $3, $4, n, CASE WHEN s = 'complete' THEN 'seeded/' || n END, sz, to_timestamp(c / 1000.0),
                CASE WHEN s = 'complete' THEN to_timestamp(c / 1000.0) END, t, r, s,
                jsonb_build_object('seeded', true), to_timestamp(c / 1000.0),
                CASE WHEN u IS NULL THEN NULL ELSE to_timestamp(u / 1000.0) END
         FROM unnest($1::uuid[], $5::text[], $6::int[], $7::float8[], $8::int[], $9::int[], $10::text[], $11::float8[])
              AS x(d, n, sz, c, t, r, s, u)`,
        [
          batch.map((row) => idByMac.get(macs[row.device] ?? '')),
          companyId,
          programId,
          siteId,
          batch.map((row) => row.name),
          batch.map((row) => row.sizeBytes),
          batch.map((row) => row.capturedAtMs),
          batch.map((row) => row.totalChunks),
          batch.map((row) => row.receivedChunks),
          batch.map((row) => row.status),
          batch.map((row) => row.updatedAtMs),
        ],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  const groups = new Map<string, number>();
  for (const row of rows) groups.set(`${row.device}|${row.name}`, (groups.get(`${row.device}|${row.name}`) ?? 0) + 1);
  const dupSizes = [...groups.values()].filter((n) => n > 1);
  return {
    devices: macs.length,
    imageRows: rows.length,
    duplicateGroups: dupSizes.length,
    duplicateRows: dupSizes.reduce((a, b) => a + b, 0),
  };
}
