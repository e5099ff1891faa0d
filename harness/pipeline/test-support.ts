// Test-only helpers for the pipeline suites: a scratch database at stage 'pipeline', a broker, and a scripted
// device (a plain mqtt.js client speaking the codec) — no mocks. Not part of the pipeline.
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { chunkImage, sha256Hex, synthesizeJpeg } from '../../simulator/firmware/index.ts';
import {
  decodeServerMessage,
  deviceSubscriptions,
  encodeDeviceMessage,
  type Dialect,
  type Metadata,
  type ServerMessage,
} from '../../simulator/protocol/index.ts';
import { applyStep, migrateUp } from '../../schema/runner.ts';
import { schemaSteps } from '../../schema/steps.ts';
import { primaryTarget, scratchDatabase } from '../../test/databases.ts';
import { startEmbeddedBroker, type Broker } from '../world/broker.ts';
import { History } from '../history/history.ts';
import { startPipeline, type Pipeline, type PipelineOptions } from './index.ts';

export interface TestWorld {
  readonly broker: Broker;
  readonly databaseUrl: string;
  readonly db: pg.Pool;
  readonly logs: string[];
  /** Starts a pipeline on this world (stopped by close()). */
  pipeline(extra?: Partial<PipelineOptions>): Promise<Pipeline>;
  /** Stops every pipeline started on this world (tests call it in afterEach, so a failed test leaks none). */
  stopPipelines(): Promise<void>;
  close(): Promise<void>;
}

/**
 * 'pipeline': schema/001..004 (what `fixed` needs). 'base': the pre-migration schema (001) plus camfleet's pipeline
 * tables (004 depends on 001 only) — no unique key, no fn_*, no duplicate_images_log: where the legacy profiles show
 * the original bugs.
 */
export type TestStage = 'pipeline' | 'base';

export async function openTestWorld(purpose: string, stage: TestStage = 'pipeline'): Promise<TestWorld> {
  const server = primaryTarget().server;
  if (server === null) throw new Error('no database server for tests');
  const scratch = await scratchDatabase(server, purpose);
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  try {
    await migrateUp(client, 'base');
    if (stage === 'pipeline') await migrateUp(client, 'pipeline');
    else {
      const step = schemaSteps.find((st) => st.stage === 'pipeline');
      if (step === undefined) throw new Error('no pipeline schema step');
      await applyStep(client, step);
    }
  } finally {
    await client.end();
  }
  const broker = await startEmbeddedBroker();
  const db = new pg.Pool({ connectionString: scratch.url, max: 4 });
  db.on('error', () => {});
  const logs: string[] = [];
  const pipelines: Pipeline[] = [];
  return {
    broker,
    databaseUrl: scratch.url,
    db,
    logs,
    async pipeline(extra = {}) {
      const p = await startPipeline({
        brokerUrl: broker.url,
        databaseUrl: scratch.url,
        log: (line) => logs.push(line),
        missingChunksIdleMs: 300,
        ...extra,
      });
      pipelines.push(p);
      return p;
    },
    async stopPipelines() {
      for (const p of pipelines.splice(0)) await p.stop().catch(() => {});
    },
    async close() {
      for (const p of pipelines.splice(0)) await p.stop().catch(() => {});
      await broker.stop().catch(() => {});
      await db.end().catch(() => {});
      await scratch.drop().catch(() => {});
    },
  };
}

export function newHistory(): History {
  return new History();
}

export interface TestImage {
  readonly name: string;
  readonly timestamp: string;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly chunkBytes: number;
  readonly chunks: Uint8Array[];
}

export function makeImage(
  seed: number,
  sizeBytes: number,
  name: string,
  timestamp = '2026-01-14T10:00:00Z',
  chunkBytes = 1024,
): TestImage {
  const bytes = synthesizeJpeg(seed, sizeBytes);
  return { name, timestamp, bytes, sha256: sha256Hex(bytes), chunkBytes, chunks: chunkImage(bytes, chunkBytes) };
}

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly message: ServerMessage | undefined;
}

/** A scripted device: publishes what the test says, records every server message on its /cmd and /ack. */
export class TestDevice {
  readonly received: Received[] = [];
  private listeners: (() => void)[] = [];

  private constructor(
    readonly client: MqttClient,
    readonly mac: string,
    readonly dialect: Dialect,
    readonly chunkIdBase: 0 | 1,
  ) {
    client.on('message', (topic, payload) => {
      const text = payload.toString('utf8');
      const decoded = decodeServerMessage(topic, text, { chunkIdBase });
      this.received.push({ topic, payload: text, message: decoded.ok ? decoded.value.message : undefined });
      for (const l of this.listeners) l();
    });
  }

  static async connect(
    url: string,
    mac: string,
    dialect: Dialect = 'fw350',
    chunkIdBase: 0 | 1 = 0,
  ): Promise<TestDevice> {
    const client = await mqtt.connectAsync(
      url,
      { clientId: `test-device-${mac}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 },
      false,
    );
    await client.subscribeAsync(deviceSubscriptions(mac, dialect), { qos: 1 });
    return new TestDevice(client, mac, dialect, chunkIdBase);
  }

  async publishRaw(topic: string, payload: string | Buffer): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  async hello(pendingImg = 0, pendingList: string[] = []): Promise<void> {
    const wire = encodeDeviceMessage(
      {
        kind: 'hello',
        device_id: this.mac,
        status: 'Alive',
        pendingImg,
        pending_list: pendingList,
        firmware_version: '3.5.0',
      },
      this.dialect,
    );
    await this.publishRaw(wire.topic, wire.payload);
  }

  metadataOf(img: TestImage, overrides: Partial<Metadata> = {}): Metadata {
    return {
      kind: 'metadata',
      device_id: this.mac,
      timestamp: img.timestamp,
      image_name: img.name,
      image_size: img.bytes.length,
      max_chunk_size: img.chunkBytes,
      total_chunk_count: img.chunks.length,
      error: 0,
      sensor_data: { temperature: 22.5, humidity: 45.1, pressure: 1013.2, gas_resistance: 120.4 },
      ...overrides,
    };
  }

  async metadata(img: TestImage, overrides: Partial<Metadata> = {}): Promise<void> {
    const wire = encodeDeviceMessage(this.metadataOf(img, overrides), this.dialect);
    await this.publishRaw(wire.topic, wire.payload);
  }

  /** Publishes chunks (all, or the given ids) back to back, as the firmware does. */
  async chunks(img: TestImage, ids?: readonly number[]): Promise<void> {
    const which = ids ?? img.chunks.map((_, i) => i);
    await Promise.all(
      which.map((id) => {
        const payload = img.chunks[id];
        if (payload === undefined) throw new Error(`no chunk ${id}`);
        const wire = encodeDeviceMessage(
          {
            kind: 'chunk',
            device_id: this.mac,
            image_name: img.name,
            chunk_id: id,
            max_chunk_size: img.chunkBytes,
            payload,
          },
          this.dialect,
          { chunkIdBase: this.chunkIdBase },
        );
        return this.client.publishAsync(wire.topic, wire.payload, { qos: 1 });
      }),
    );
  }

  /** Metadata then all chunks except `skip`. */
  async sendImage(img: TestImage, skip: readonly number[] = []): Promise<void> {
    await this.metadata(img);
    await this.chunks(
      img,
      img.chunks.map((_, i) => i).filter((i) => !skip.includes(i)),
    );
  }

  /** The first message from index `from` on that matches, waiting up to timeoutMs. */
  waitFor(match: (m: ServerMessage) => boolean, timeoutMs = 5000, from = 0): Promise<Received> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < this.received.length; i++) {
          const r = this.received[i];
          if (r?.message !== undefined && match(r.message)) {
            this.listeners = this.listeners.filter((l) => l !== listener);
            clearTimeout(timer);
            resolve(r);
            return true;
          }
        }
        return false;
      };
      const listener = (): void => void check();
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(
          new Error(
            `${this.mac}: no matching server message within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((r) => r.payload))}`,
          ),
        );
      }, timeoutMs);
      if (!check()) this.listeners.push(listener);
    });
  }

  waitForAck(imageName: string, timeoutMs = 5000, from = 0): Promise<Received> {
    return this.waitFor((m) => m.kind === 'ack_ok' && m.image_name === imageName, timeoutMs, from);
  }

  acksFor(imageName: string): number {
    return this.received.filter((r) => r.message?.kind === 'ack_ok' && r.message.image_name === imageName).length;
  }

  async end(): Promise<void> {
    await this.client.endAsync().catch(() => {});
  }
}

export interface ImageRowView {
  image_id: string;
  image_name: string;
  status: string;
  received_chunks: number;
  total_chunks: number;
  image_size: number;
  image_url: string | null;
  error_code: number;
  metadata: Record<string, unknown>;
  blob_sha256: string | null;
  stored_sha256: string | null;
}

export async function imagesOf(db: pg.Pool, mac: string): Promise<ImageRowView[]> {
  const { rows } = await db.query<ImageRowView>(
    `SELECT di.image_id::text, di.image_name, di.status, di.received_chunks, di.total_chunks, di.image_size,
            di.image_url, di.error_code, di.metadata, encode(sha256(b.bytes), 'hex') AS blob_sha256,
            b.sha256 AS stored_sha256
     FROM device_images di JOIN devices d ON d.device_id = di.device_id
     LEFT JOIN image_blobs b ON b.image_id = di.image_id
     WHERE d.device_mac = $1 ORDER BY di.created_at, di.image_name`,
    [mac],
  );
  return rows;
}

export async function rejectionsOf(db: pg.Pool): Promise<
  {
    topic: string;
    device_mac: string | null;
    code: string;
    reason: string;
    payload_bytes: number;
    payload_excerpt: string;
  }[]
> {
  const { rows } = await db.query<{
    topic: string;
    device_mac: string | null;
    code: string;
    reason: string;
    payload_bytes: number;
    payload_excerpt: string;
  }>(
    'SELECT topic, device_mac, code, reason, payload_bytes, payload_excerpt FROM rejected_messages ORDER BY rejection_id',
  );
  return rows;
}

/**
 * The device_images row of `imageName` as the database holds it the moment ACK_OK for that name reaches the device:
 * read from the device's own message handler, so an ACK published before the commit is seen before it (I7). The
 * pipeline's pipeline_acked event cannot show that: it is appended when the publish resolves, whatever came first.
 */
export function rowWhenAckArrives(
  device: TestDevice,
  db: pg.Pool,
  imageName: string,
): Promise<ImageRowView | undefined> {
  return new Promise((resolve, reject) => {
    const onMessage = (topic: string, payload: Buffer) => {
      const decoded = decodeServerMessage(topic, payload.toString('utf8'), { chunkIdBase: device.chunkIdBase });
      if (!decoded.ok) return;
      const m = decoded.value.message;
      if (m.kind !== 'ack_ok' || m.image_name !== imageName) return;
      device.client.off('message', onMessage);
      imagesOf(db, device.mac).then((rows) => resolve(rows.find((r) => r.image_name === imageName)), reject);
    };
    device.client.on('message', onMessage);
  });
}

export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let macCounter = 0;
/** A fresh MAC per call (12 hex digits). */
export function nextMac(prefix = 'B8F862'): string {
  macCounter++;
  return `${prefix}${(0x100000 + macCounter * 7919 + process.pid).toString(16).toUpperCase().slice(-6)}`;
}

/** Waits until the pipeline has received `messages` messages in all, then until it is idle. */
export async function settled(pipeline: Pipeline, messages: number, timeoutMs = 5000): Promise<void> {
  await until(() => pipeline.stats().messages >= messages, timeoutMs, `${messages} messages at the pipeline`);
  await pipeline.idle();
}
