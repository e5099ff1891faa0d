// Test-only: a consistent world built from a list of captures — device rows, complete image rows, blobs of real
// JPEG-like bytes (FF D8 FF … FF D9), and the history a clean run would leave — which each test then breaks in
// exactly one way. Plus a scratch database per test file, reset to a schema stage before each test.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { Stage } from '../../schema/steps.ts';
import { migrateUp } from '../../schema/runner.ts';
import { sha256Hex, synthesizeJpeg } from '../../simulator/firmware/image.ts';
import { newPool, primaryTarget, scratchDatabase } from '../../test/databases.ts';
import type { CaptureRecord } from '../history/events.ts';
import { History } from '../history/history.ts';

export const CHUNK_BYTES = 1024;
/** 2026-01-14T10:00:00Z */
const T0_MS = Date.UTC(2026, 0, 14, 10, 0, 0);

export interface CaptureSpec {
  readonly mac: string;
  readonly imageName: string;
  readonly captureTimestamp?: string;
  readonly sizeBytes?: number;
}

export interface WorldImage {
  readonly record: CaptureRecord;
  readonly bytes: Buffer;
  readonly deviceId: string;
  readonly imageId: string;
  /** The row's image_name: the wire name, or a disambiguated one when the device reused the name. */
  readonly storedName: string;
  readonly totalChunks: number;
}

export interface World {
  readonly devices: ReadonlyMap<string, string>;
  readonly images: readonly WorldImage[];
}

/** Device ids, bytes, hashes and row names for the captures (pure). */
export function planWorld(specs: readonly CaptureSpec[]): World {
  const devices = new Map<string, string>();
  const seqs = new Map<string, number>();
  const usedNames = new Set<string>();
  const images = specs.map((spec, i): WorldImage => {
    const deviceId = devices.get(spec.mac) ?? randomUUID();
    devices.set(spec.mac, deviceId);
    const captureSeq = seqs.get(spec.mac) ?? 0;
    seqs.set(spec.mac, captureSeq + 1);
    const captureTimestamp = spec.captureTimestamp ?? `${new Date(T0_MS + i * 60_000).toISOString().slice(0, 19)}Z`;
    const sizeBytes = spec.sizeBytes ?? 3000 + 137 * i;
    const bytes = Buffer.from(synthesizeJpeg(0xc0ffee + i, sizeBytes));
    const nameKey = `${spec.mac}|${spec.imageName}`;
    const storedName = usedNames.has(nameKey)
      ? spec.imageName.replace(/\.jpg$/, `~${captureTimestamp.replace(/\D/g, '').slice(0, 14)}.jpg`)
      : spec.imageName;
    usedNames.add(nameKey);
    return {
      record: {
        mac: spec.mac,
        imageName: spec.imageName,
        sha256: sha256Hex(bytes),
        sizeBytes,
        captureTimestamp,
        captureSeq,
      },
      bytes,
      deviceId,
      imageId: randomUUID(),
      storedName,
      totalChunks: Math.ceil(sizeBytes / CHUNK_BYTES),
    };
  });
  return { devices, images };
}

/** A deterministic clock for histories. */
export function newHistory(): History {
  let ms = T0_MS;
  return new History(() => ms++);
}

/** The history of a clean run over the world: each capture sent, committed, acked (observed complete), dequeued. */
export function appendCleanRun(history: History, world: World, opts: { final?: boolean } = {}): History {
  history.append({ type: 'run_phase', phase: 'start' });
  for (const image of world.images) {
    const { mac, imageName, sha256 } = image.record;
    history.append({ type: 'device_captured', capture: image.record });
    history.append({ type: 'device_sent_metadata', mac, imageName, sha256 });
    history.append({ type: 'pipeline_committed', mac, imageName: image.storedName, imageId: image.imageId });
    history.append({ type: 'pipeline_acked', mac, imageName });
    history.append({ type: 'ack_observed', mac, imageName, sha256, storedComplete: true });
    history.append({ type: 'device_dequeued', mac, imageName, sha256 });
  }
  if (opts.final ?? true) {
    history.append({ type: 'run_phase', phase: 'end' });
    for (const mac of world.devices.keys()) history.append({ type: 'device_final', mac, queued: [] });
  }
  return history;
}

export function metadataOf(image: WorldImage): Record<string, unknown> {
  return {
    kind: 'metadata',
    device_id: image.record.mac,
    timestamp: image.record.captureTimestamp,
    image_name: image.record.imageName,
    image_size: image.record.sizeBytes,
    max_chunk_size: CHUNK_BYTES,
    total_chunk_count: image.totalChunks,
  };
}

/** Device rows, one complete image row per capture, and (when image_blobs exists) its blob. */
export async function storeWorld(client: pg.ClientBase, world: World): Promise<void> {
  for (const [mac, deviceId] of world.devices) {
    await client.query(`INSERT INTO devices (device_id, device_mac) VALUES ($1, $2)`, [deviceId, mac]);
  }
  const { rows } = await client.query<{ blobs: boolean }>(`SELECT to_regclass('image_blobs') IS NOT NULL AS blobs`);
  for (const image of world.images) await insertImage(client, image, { blob: rows[0]?.blobs ?? false });
}

export async function insertImage(
  client: pg.ClientBase,
  image: WorldImage,
  opts: {
    readonly blob?: boolean;
    readonly status?: string;
    readonly receivedChunks?: number;
    readonly imageId?: string;
  } = {},
): Promise<string> {
  const imageId = opts.imageId ?? image.imageId;
  const status = opts.status ?? 'complete';
  await client.query(
    `INSERT INTO device_images (image_id, device_id, image_name, image_url, image_size, captured_at, received_at,
                                total_chunks, received_chunks, status, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      imageId,
      image.deviceId,
      image.storedName,
      status === 'complete' ? `camfleet-blob://image_blobs/${imageId}` : null,
      image.record.sizeBytes,
      image.record.captureTimestamp,
      status === 'complete' ? image.record.captureTimestamp : null,
      image.totalChunks,
      opts.receivedChunks ?? (status === 'complete' ? image.totalChunks : 0),
      status,
      metadataOf(image),
    ],
  );
  if ((opts.blob ?? true) && status === 'complete') {
    await client.query(`INSERT INTO image_blobs (image_id, bytes, sha256) VALUES ($1, $2, $3)`, [
      imageId,
      image.bytes,
      image.record.sha256,
    ]);
  }
  return imageId;
}

/** Drops everything, then applies the schema through `stage` the way the harness does (base, then the rest). */
export async function resetDatabase(client: pg.ClientBase, stage: Stage): Promise<void> {
  await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
  await migrateUp(client, 'base');
  if (stage !== 'base') await migrateUp(client, stage);
}

/** Plan, store and record a clean world at `stage`; returns it with its history. */
export async function cleanWorld(
  client: pg.ClientBase,
  specs: readonly CaptureSpec[],
  opts: { readonly stage?: Stage; readonly final?: boolean } = {},
): Promise<{ world: World; history: History }> {
  await resetDatabase(client, opts.stage ?? 'pipeline');
  const world = planWorld(specs);
  await storeWorld(client, world);
  const history = appendCleanRun(newHistory(), world, opts.final === undefined ? {} : { final: opts.final });
  return { world, history };
}

export function imageOf(world: World, index: number): WorldImage {
  const image = world.images[index];
  if (image === undefined) throw new Error(`no image ${index} in the world`);
  return image;
}

/** A scratch database for this test file, with one client, dropped afterwards. */
export function useScratchClient(purpose: string): () => pg.PoolClient {
  let pool: pg.Pool | undefined;
  let client: pg.PoolClient | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const server = primaryTarget().server;
    if (server === null) throw new Error('no database server for the checker tests');
    const db = await scratchDatabase(server, purpose);
    drop = () => db.drop();
    pool = newPool(db.url, 2);
    client = await pool.connect();
  });
  afterAll(async () => {
    client?.release();
    await pool?.end();
    await drop?.();
  });
  return () => {
    if (client === undefined) throw new Error('scratch database not ready');
    return client;
  };
}

/** Three devices, four captures, one of them a new picture under a reused name (stored disambiguated). */
export const standardCaptures: readonly CaptureSpec[] = [
  { mac: 'B8F862F9C1C4', imageName: 'image_1.jpg' },
  { mac: 'B8F862F9C1C4', imageName: 'image_2.jpg' },
  { mac: '98A316F82928', imageName: 'image_1.jpg' },
  { mac: 'B8F862F9C1C4', imageName: 'image_1.jpg' }, // counter reset: same name, new picture
];
