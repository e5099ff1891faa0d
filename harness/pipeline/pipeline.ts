// The reference ingestion service (ARCHITECTURE.md §1, §5): MQTT in, decisions from the pure core (core/), durable
// facts in Postgres (store/), replies out. This file only wires them: per-device lanes for order, the chunk batcher
// for throughput, the completer for ack-after-commit, the sweeper for missing chunks. The legacy profiles swap ONE
// policy each (see options.ts): how metadata opens a row (legacy-insert, legacy-two-writers, legacy-reset-count:
// plain SQL of store/legacy.ts), where chunks live (legacy-memory-chunks: memory-chunks.ts) or how long
// (legacy-ttl: chunk-expiry.ts); `fixed` takes none of those branches.
import type { Clock } from '../world/clock.ts';
import { redactUrl } from '../world/redact.ts';
import type { Database } from '../world/sql.ts';
import {
  decodeDeviceMessage,
  encodeServerMessage,
  formatWakeTime,
  parseDeviceTimestamp,
  parseTopic,
  serverSubscriptions,
  type Chunk,
  type Dialect,
  type DecodeOptions,
  type Hello,
  type Metadata,
  type RejectCode,
  type ServerMessage,
  type Telemetry,
  type Topic,
} from '../../simulator/protocol/index.ts';
import { decideChunk } from './core/chunk.ts';
import { decideHello } from './core/hello.ts';
import { decideMetadata, metadataRecord, type MetadataDecision } from './core/metadata.ts';
import { storedNameCandidates } from './core/names.ts';
import { defaultNextWakeMs } from './core/schedule.ts';
import { ChunkBatcher, type ChunkBatch } from './chunk-batcher.ts';
import { ChunkExpiry } from './chunk-expiry.ts';
import { MemoryChunkStore } from './memory-chunks.ts';
import { Completer } from './completer.ts';
import { DeliveryLag } from './delivery-lag.ts';
import { DeviceDirectory } from './device-directory.ts';
import { Lanes } from './lanes.ts';
import { connectMqttLink, type MqttLink } from './mqtt-link.ts';
import type { ResolvedOptions } from './options.ts';
import { RejectionRecorder } from './rejection-recorder.ts';
import { emptyStats, snapshotStats, type PipelineStats } from './stats.ts';
import { storedChunkIds, writeChunks, type ImageProgress } from './store/chunks.ts';
import { listOwedAcks, settleOwedAcks } from './store/acks-owed.ts';
import { completeImages, type CompletionOutcome, type CompletionRequest } from './store/completion.ts';
import { touchDevices, type DeviceSighting } from './store/devices.ts';
import {
  findImagesMany,
  findIncompleteRoutes,
  findRoute,
  logDuplicate,
  logNameReuse,
  openTransfers,
  upsertRoute,
  type ImageLookup,
  type OpenRequest,
  type OpenResult,
  type StoredRoute,
  type TransferRoute,
} from './store/images.ts';
import { GroupCall } from './group-call.ts';
import type { ImageFacts } from './core/facts.ts';
import {
  completeFromMemory,
  expireChunks,
  insertImageRow,
  logDuplicatePlain,
  resumeImageRow,
  setReceivedChunks,
} from './store/legacy.ts';
import { errorText, retryOnConnectionLoss, withRetry } from './store/pool.ts';
import type { SchemaFeatures } from './store/schema-check.ts';
import { insertRejections } from './store/rejections.ts';
import { MissingChunksSweeper } from './sweeper.ts';
import { RouteCache, routeKey, Transfer, type TransferState } from './transfers.ts';

/** Pipeline-side rejection codes beyond the codec's (RejectCode). */
export type PipelineRejectCode = RejectCode | 'name_reuse_exhausted' | 'internal_error' | 'unique_violation';

/** A handler's refusal of its message with a specific code (guard() records it as such). */
class MessageRefused extends Error {
  constructor(
    readonly code: PipelineRejectCode,
    message: string,
  ) {
    super(message);
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === '23505';
}

/** A restarted pipeline takes over transfers whose route was touched this recently (older ones wait for their
 *  device's next wake). */
const ADOPT_UPDATED_WITHIN_MS = 10 * 60_000;
const CHUNK_BATCH_ROWS_MAX = 2000;
/** Completions queued at once (they are written in batches of COMPLETION_BATCH_MAX, one batch at a time). */
const COMPLETIONS_CONCURRENT_MAX = 10_000;
const COMPLETION_BATCH_MAX = 200;
const FLUSH_ATTEMPTS = 4;
const COMPLETION_ATTEMPTS = 3;
/** Above these, the MQTT link stops reading (mqtt-link.ts). */
const BUFFERED_ROWS_HIGH = 20_000;
const LANE_TASKS_HIGH = 20_000;
const EXCERPT_CHARS = 200;
const STOP_IDLE_TIMEOUT_MS = 15_000;

export class PipelineService {
  private readonly o: ResolvedOptions;
  private readonly counters: PipelineStats = emptyStats();
  private readonly lanes: Lanes;
  private readonly routes = new RouteCache();
  private readonly devices: DeviceDirectory;
  private readonly batcher: ChunkBatcher;
  private readonly completer: Completer;
  private readonly sweeper: MissingChunksSweeper;
  private readonly recorder: RejectionRecorder;
  // Natural batching of the per-message database calls (group-call.ts).
  private readonly lookups: GroupCall<ImageLookup, Map<string, ImageFacts>>;
  private readonly opens: GroupCall<OpenRequest, OpenResult>;
  private readonly touches: GroupCall<DeviceSighting, true>;
  private readonly completions: GroupCall<CompletionRequest, CompletionOutcome>;
  /** `fixed`: ACK_OKs the broker has taken, so nothing is owed for them any more (store/acks-owed.ts). */
  private readonly ackReceipts: GroupCall<string, true> | undefined;
  private readonly publishes = new Set<Promise<void>>();
  private readonly decodeOptions: DecodeOptions;
  private readonly deliveryLag: DeliveryLag;
  /** legacy-memory-chunks: where chunks live instead of image_chunks. */
  private readonly memory: MemoryChunkStore | undefined;
  /** legacy-ttl: the job that expires stored chunks. */
  private readonly expiry: ChunkExpiry | undefined;
  private link: MqttLink | undefined;
  private stopped: Promise<void> | undefined;
  /** crash() was called: nothing more is published, recorded or logged by this instance. */
  private crashed = false;

  constructor(
    options: ResolvedOptions,
    private readonly pool: Database,
    private readonly schema: SchemaFeatures = { duplicateLog: true, uniqueKey: true },
  ) {
    const log = options.log;
    this.o = { ...options, log: (line) => (this.crashed ? undefined : log(line)) };
    const o = this.o;
    const clock = o.clock;
    this.decodeOptions = { chunkIdBase: o.chunkIdBase };
    this.deliveryLag = new DeliveryLag(o.missingChunksIdleMs);
    this.lanes = new Lanes((key, error) =>
      this.o.log(`pipeline: unexpected error for device ${key}: ${errorText(error)}`),
    );
    this.devices = new DeviceDirectory(pool, (n) => (this.counters.devicesProvisioned += n), o.log, clock);
    this.batcher = new ChunkBatcher({
      write: (batch) =>
        withRetry(
          FLUSH_ATTEMPTS,
          () => writeChunks(pool, batch),
          (error, attempt) =>
            this.o.log(
              `pipeline: writing ${batch.chunkIds.length} chunks failed (attempt ${attempt}), retrying: ${errorText(error)}`,
            ),
          clock,
        ),
      flushIntervalMs: o.flushIntervalMs,
      maxRows: CHUNK_BATCH_ROWS_MAX,
      onFlushed: (batch, progress) => this.onFlushed(batch, progress),
      onFailed: (batch, error) => this.onFlushFailed(batch, error),
      clock,
    });
    this.completer = new Completer((t) => this.complete(t), COMPLETIONS_CONCURRENT_MAX);
    // A killed database connection fails the statement on it; the same statement on a fresh one is retried.
    this.lookups = new GroupCall((reqs) => this.retried(() => findImagesMany(pool, reqs), 'image lookup'), {
      maxBatch: 500,
      concurrency: 2,
    });
    // A device has one metadata in flight at a time (lanes), so concurrent batches never touch the same rows.
    // (A retried handler call whose first attempt did commit finds its row: the handler resumes it.)
    this.opens = new GroupCall((reqs) => this.retried(() => openTransfers(pool, reqs), 'opening transfers'), {
      maxBatch: 200,
      concurrency: 2,
    });
    this.touches = new GroupCall(
      async (reqs) => {
        await this.retried(() => touchDevices(pool, reqs), 'device update');
        return reqs.map(() => true as const);
      },
      { maxBatch: 500, concurrency: 1 },
    );
    const memory =
      o.profile === 'legacy-memory-chunks'
        ? new MemoryChunkStore({
            writeCounts: (ids, counts) => setReceivedChunks(pool, ids, counts),
            flushIntervalMs: Math.max(o.flushIntervalMs, 20),
            log: o.log,
            clock,
          })
        : undefined;
    this.memory = memory;
    this.expiry =
      o.profile === 'legacy-ttl'
        ? new ChunkExpiry({
            ttlMs: o.chunkTtlMs,
            expire: (ttlMs) => expireChunks(pool, ttlMs),
            onExpired: (expired) => this.onChunksExpired(expired),
            log: o.log,
            clock,
          })
        : undefined;
    // One batch at a time: a batch locks its image rows in order, but the devices rows it stamps in any order.
    this.completions = new GroupCall(
      (reqs) =>
        withRetry(
          COMPLETION_ATTEMPTS,
          () =>
            memory === undefined
              ? completeImages(pool, reqs)
              : completeFromMemory(pool, reqs, (id) => memory.chunksOf(id)),
          (error, attempt) =>
            this.o.log(`pipeline: completing ${reqs.length} images failed (attempt ${attempt}): ${errorText(error)}`),
          clock,
        ),
      { maxBatch: COMPLETION_BATCH_MAX, concurrency: 1 },
    );
    this.ackReceipts =
      o.profile === 'fixed'
        ? new GroupCall(
            async (ids) => {
              await this.retried(() => settleOwedAcks(pool, ids), 'settling acks');
              return ids.map(() => true as const);
            },
            { maxBatch: 500, concurrency: 1 },
          )
        : undefined;
    this.sweeper = new MissingChunksSweeper({
      transfers: () => this.routes.values(),
      storedChunkIds: (ids) =>
        memory === undefined ? storedChunkIds(pool, ids) : Promise.resolve(memory.storedChunkIds(ids)),
      idleMs: () =>
        o.missingChunksIdleMs + Math.min(2 * this.deliveryLag.currentMs(o.clock.nowMs()), 10 * o.missingChunksIdleMs),
      requestsMax: o.missingChunksRequestsMax,
      clock,
      requestMissing: (t, ids) => this.requestMissing(t, ids),
      complete: (t) => this.completer.request(t),
      log: o.log,
    });
    this.recorder = new RejectionRecorder({
      write: (rows) =>
        withRetry(
          3,
          () => insertRejections(pool, rows),
          () => {},
          clock,
        ),
      flushIntervalMs: Math.max(o.flushIntervalMs, 50),
      log: o.log,
      clock,
    });
  }

  async connect(): Promise<void> {
    this.link = await connectMqttLink({
      url: this.o.brokerUrl,
      clientId: this.o.clientId,
      subscriptions: this.o.subscriptions ?? serverSubscriptions(),
      log: this.o.log,
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      pressured: () => this.batcher.bufferedRows > BUFFERED_ROWS_HIGH || this.lanes.pending > LANE_TASKS_HIGH,
      clock: this.o.clock,
    });
    await this.adoptIncompleteTransfers();
    await this.sendOwedAcks();
    this.sweeper.start();
    this.expiry?.start();
    this.o.log(
      `pipeline: profile ${this.o.profile}, subscribed at ${redactUrl(this.o.brokerUrl)} as ${this.o.clientId}`,
    );
  }

  stats(): PipelineStats {
    return snapshotStats(this.counters);
  }

  /** `work` once more on a fresh connection when the connection was lost under it (store/pool.ts). */
  private retried<T>(work: () => Promise<T>, what: string): Promise<T> {
    return retryOnConnectionLoss(work, this.o.log, what, { clock: this.o.clock });
  }

  /** Resolves when everything received so far has been handled, written and answered. */
  async idle(): Promise<void> {
    for (;;) {
      await this.lanes.idle();
      await this.batcher.drain();
      await this.completer.idle();
      await this.sweeper.idle();
      await this.memory?.drain();
      await this.expiry?.idle();
      await Promise.allSettled([...this.publishes]);
      await this.recorder.drain();
      const busy =
        this.lanes.busy ||
        this.batcher.busy ||
        this.memory?.busy === true ||
        this.completer.busy ||
        this.sweeper.busy ||
        this.publishes.size > 0 ||
        this.recorder.busy;
      if (!busy) return;
    }
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  /**
   * A crash (fault injection): no unsubscribe, no drain, no flush. Buffered chunks, routes and every other in-memory
   * state are lost; the MQTT socket is cut and the database connections are closed under their queries (a statement
   * already sent may still commit, as in a real crash). A new pipeline on the same database takes over from what is
   * durable.
   */
  crash(): Promise<void> {
    if (this.stopped !== undefined) return this.stopped;
    this.o.log('pipeline: crashing (fault injection): no drain, no flush');
    this.crashed = true;
    this.stopped = this.abort();
    return this.stopped;
  }

  private async abort(): Promise<void> {
    this.sweeper.stop();
    this.expiry?.stop();
    this.batcher.discard();
    this.memory?.discard();
    this.recorder.discard();
    const link = this.link;
    if (link !== undefined) await link.destroy().catch(() => {});
    await this.pool.abort(); // on the clock the pool was created with (index.ts)
  }

  private async shutdown(): Promise<void> {
    this.sweeper.stop();
    this.expiry?.stop();
    const link = this.link;
    if (link !== undefined) {
      await withTimeout(this.o.clock, link.unsubscribe(), 2000).catch((error: unknown) =>
        this.o.log(`pipeline: unsubscribe failed: ${errorText(error)}`),
      );
    }
    const drained = await withTimeout(this.o.clock, this.idle(), STOP_IDLE_TIMEOUT_MS).then(
      () => true,
      () => false,
    );
    if (!drained) this.o.log('pipeline: stopping with work still in flight (database or broker not answering)');
    if (link !== undefined) await link.end().catch(() => {});
    await this.recorder.drain().catch(() => {});
    await this.pool.end().catch(() => {});
    this.o.log('pipeline: stopped');
  }

  // ---- messages -------------------------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer): void {
    if (this.crashed) return;
    const decoded = decodeDeviceMessage(topic, payload, this.decodeOptions);
    if (!decoded.ok) {
      // Under a wide subscription (`ESP32CAM/#`) our own replies come back: they are not device input.
      if (decoded.error.code === 'unknown_topic' && isServerChannel(topic)) return;
      this.counters.messages++;
      this.reject(topic, payload, macOfTopic(topic), decoded.error.code, decoded.error.reason);
      return;
    }
    this.counters.messages++;
    const { topic: t, message } = decoded.value;
    switch (message.kind) {
      case 'chunk':
        this.counters.chunksReceived++;
        this.lanes.run(t.deviceId, () => this.onChunk(t, message, topic, payload));
        return;
      case 'metadata':
        this.counters.metadata++;
        this.lanes.run(t.deviceId, () =>
          this.guard(topic, payload, t, () => this.onMetadata(t, message, topic, payload)),
        );
        return;
      case 'hello':
        this.counters.hellos++;
        this.lanes.run(t.deviceId, () => this.guard(topic, payload, t, () => this.onHello(t, message)));
        return;
      case 'telemetry':
        this.lanes.run(t.deviceId, () => this.guard(topic, payload, t, () => this.onTelemetry(t, message)));
        return;
    }
  }

  /** Any exception inside a handler becomes a recorded rejection of that message; the pipeline goes on. */
  private async guard(topic: string, payload: Buffer, t: Topic, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (error instanceof MessageRefused) this.reject(topic, payload, t.deviceId, error.code, error.message);
      else this.reject(topic, payload, t.deviceId, 'internal_error', `handler failed: ${errorText(error)}`);
    }
  }

  private async onHello(t: Topic, hello: Hello): Promise<void> {
    const deviceId = await this.devices.ensure(t.deviceId);
    await this.touches.call({
      deviceId,
      firmwareVersion: hello.firmware_version,
      hardwareVersion: hello.hardware_version,
      batteryVoltage: hello.battery_voltage,
      wifiRssi: hello.wifi_rssi,
    });
    this.send(t.deviceId, t.dialect, decideHello(hello));
  }

  private async onTelemetry(t: Topic, telemetry: Telemetry): Promise<void> {
    const deviceId = await this.devices.ensure(t.deviceId);
    await this.touches.call({ deviceId, batteryVoltage: telemetry.battery_voltage, wifiRssi: telemetry.wifi_rssi });
  }

  private async onMetadata(t: Topic, m: Metadata, topic: string, payload: Buffer): Promise<void> {
    const mac = t.deviceId;
    if (m.timestamp.includes('\u0000')) {
      this.reject(topic, payload, mac, 'bad_field', 'timestamp contains NUL, which the database cannot store');
      return;
    }
    const deviceId = await this.devices.ensure(mac);
    // legacy-two-writers: the "edge function" handles the same message at the same time (PROTOCOL.md §7.2).
    const gate = this.o.profile === 'legacy-two-writers' ? new RaceGate(this.o.clock) : undefined;
    const edge = gate === undefined ? undefined : this.edgeWriter(t, m, deviceId, gate);
    try {
      await this.serveMetadata(t, m, topic, payload, deviceId, gate);
    } finally {
      gate?.arrive('service');
      if (edge !== undefined) await edge;
    }
  }

  /** Which row this metadata goes to. legacy-insert looks nothing up: every metadata creates a row (§7.1). */
  private async decide(m: Metadata, deviceId: string): Promise<MetadataDecision> {
    if (this.o.profile === 'legacy-insert') return decideMetadata(m, new Map());
    const rows = await this.lookups.call({
      deviceId,
      names: storedNameCandidates(m.image_name, m.timestamp, m.image_size),
    });
    return decideMetadata(m, rows);
  }

  private async serveMetadata(
    t: Topic,
    m: Metadata,
    topic: string,
    payload: Buffer,
    deviceId: string,
    gate?: RaceGate,
  ): Promise<void> {
    const mac = t.deviceId;
    const decision = await this.decide(m, deviceId);
    gate?.arrive('service');
    const key = routeKey(mac, m.image_name);
    this.routes.clearAbsent(key);
    if (decision.kind === 'reject') {
      this.reject(topic, payload, mac, decision.code, decision.reason);
      return;
    }
    const now = this.o.clock.nowMs();
    const storedName = decision.kind === 'create' ? decision.storedName : decision.image.imageName;
    const captureTime = parseDeviceTimestamp(m.timestamp, now);
    const record = metadataRecord(m, { dialect: t.dialect, captureTime, storedName });
    const route: TransferRoute = {
      deviceId,
      wireName: m.image_name,
      captureTimestamp: m.timestamp,
      imageSize: m.image_size,
      totalChunks: m.total_chunk_count,
    };
    if (decision.kind === 'duplicate') {
      await this.acceptDuplicate(t, m, route, decision.image.imageId, storedName, record);
      return;
    }
    const request: OpenRequest = {
      route,
      storedName,
      capturedAtIso: new Date(captureTime.ms).toISOString(),
      metadata: record,
      existingImageId: decision.kind === 'resume' ? decision.image.imageId : null,
    };
    const opened = this.o.profile === 'fixed' ? await this.opens.call(request) : await this.openLegacy(request, gate);
    if (!opened.ok) {
      throw new Error(`fn_wake_ingestion_handler refused ${storedName}: ${opened.code} ${opened.message}`.trim());
    }
    if (opened.alreadyComplete) {
      // Completed by another writer between our read and the handler call: this metadata is a re-send.
      await this.acceptDuplicate(t, m, route, opened.imageId, storedName, record);
      return;
    }
    const tr = this.bindTransfer(key, t, route, storedName, opened.imageId, m.max_chunk_size, 'receiving');
    tr.missingRequests = 0;
    tr.lastActivityMs = now;
    if (decision.kind === 'create' && decision.reused !== undefined) {
      this.counters.namesReused++;
      this.o.log(
        `pipeline: ${mac} reused the name ${m.image_name} for a new capture (${m.timestamp}); stored as ${storedName}`,
      );
      if (this.schema.duplicateLog) await logNameReuse(this.pool, deviceId, decision.reused.imageId, record);
      this.o.history?.append({ type: 'pipeline_name_reused', mac, imageName: m.image_name, storedName });
    }
    // legacy-memory-chunks counts what it holds: a transfer it resumes after a restart holds nothing, so the row's
    // progress goes back to that count (I4) — written before this device's next chunk is handled.
    if (this.memory !== undefined && opened.isResume && opened.receivedChunks !== this.memory.count(opened.imageId)) {
      await setReceivedChunks(this.pool, [opened.imageId], [this.memory.count(opened.imageId)]);
    }
    // Resume with every chunk already stored (e.g. the pipeline stopped between the last chunk and completion).
    const have = this.memory === undefined ? opened.receivedChunks : this.memory.count(opened.imageId);
    if (have >= m.total_chunk_count) this.completer.request(tr);
  }

  /**
   * The original service's plain SQL (store/legacy.ts), for every legacy profile; runs on the base stage.
   * legacy-insert: INSERT, and on a stage with the unique key its 23505 is a recorded refusal of the message.
   * legacy-two-writers: a window between the SELECT (decide) and the INSERT; losing the race to the edge writer on a
   * stage with the unique key, it resumes the winner's row instead. legacy-reset-count: resume sets
   * received_chunks to 0.
   */
  private async openLegacy(req: OpenRequest, gate: RaceGate | undefined): Promise<OpenResult> {
    const profile = this.o.profile;
    let imageId: string;
    if (req.existingImageId === null) {
      if (gate !== undefined) {
        await gate.open;
        await this.o.clock.sleep(this.o.writerRaceWindowMs);
      }
      try {
        imageId = await insertImageRow(this.pool, req);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (profile !== 'legacy-two-writers') {
          throw new MessageRefused(
            'unique_violation',
            `INSERT of ${req.storedName} failed: a row of that name exists (${errorText(error)})`,
          );
        }
        this.o.log(`pipeline: service writer lost the INSERT race for ${req.storedName} (23505); resuming that row`);
        const rows = await findImagesMany(this.pool, [{ deviceId: req.route.deviceId, names: [req.storedName] }]);
        const winner = rows[0]?.get(req.storedName);
        if (winner === undefined) throw error;
        return this.resumeLegacy(winner.imageId, req);
      }
    } else {
      return this.resumeLegacy(req.existingImageId, req);
    }
    await upsertRoute(this.pool, req.route, imageId);
    return { ok: true, imageId, isResume: false, alreadyComplete: false, receivedChunks: 0 };
  }

  private async resumeLegacy(imageId: string, req: OpenRequest): Promise<OpenResult> {
    const r = await resumeImageRow(this.pool, imageId, req, this.o.profile === 'legacy-reset-count');
    if (!r.alreadyComplete) await upsertRoute(this.pool, req.route, imageId);
    return { ok: true, imageId, isResume: true, alreadyComplete: r.alreadyComplete, receivedChunks: r.receivedChunks };
  }

  /**
   * legacy-two-writers: the edge function's handling of a metadata message — the same select-then-insert as the
   * service, with the same window, and nobody routes chunks to its row. Two writers that both find no row both
   * insert one (I1 on the base stage). Its errors are its own: logged, never the message's fate.
   */
  private async edgeWriter(t: Topic, m: Metadata, deviceId: string, gate: RaceGate): Promise<void> {
    try {
      const rows = await findImagesMany(this.pool, [
        { deviceId, names: storedNameCandidates(m.image_name, m.timestamp, m.image_size) },
      ]).finally(() => gate.arrive('edge'));
      const decision = decideMetadata(m, rows[0] ?? new Map());
      if (decision.kind !== 'create' && decision.kind !== 'resume') return;
      const storedName = decision.kind === 'create' ? decision.storedName : decision.image.imageName;
      const captureTime = parseDeviceTimestamp(m.timestamp, this.o.clock.nowMs());
      const req: OpenRequest = {
        route: {
          deviceId,
          wireName: m.image_name,
          captureTimestamp: m.timestamp,
          imageSize: m.image_size,
          totalChunks: m.total_chunk_count,
        },
        storedName,
        capturedAtIso: new Date(captureTime.ms).toISOString(),
        metadata: metadataRecord(m, { dialect: t.dialect, captureTime, storedName }),
        existingImageId: null,
      };
      if (decision.kind === 'resume') {
        await resumeImageRow(this.pool, decision.image.imageId, req, false);
        return;
      }
      await gate.open;
      await this.o.clock.sleep(this.o.writerRaceWindowMs);
      await insertImageRow(this.pool, req);
    } catch (error) {
      this.o.log(`pipeline: edge writer failed for ${t.deviceId} ${m.image_name}: ${errorText(error)}`);
    }
  }

  private async acceptDuplicate(
    t: Topic,
    m: Metadata,
    route: TransferRoute,
    imageId: string,
    storedName: string,
    record: Record<string, unknown>,
  ): Promise<void> {
    if (this.o.profile === 'fixed') {
      const logId = await this.retried(
        () => logDuplicate(this.pool, route.deviceId, storedName, record),
        'logging a duplicate',
      );
      if (logId === null) this.o.log(`pipeline: fn_log_duplicate_image did not log ${t.deviceId} ${storedName}`);
    } else if (this.schema.duplicateLog) {
      await logDuplicatePlain(this.pool, imageId, record);
    }
    await this.retried(() => upsertRoute(this.pool, route, imageId), 'routing a duplicate');
    this.counters.duplicatesLogged++;
    this.o.history?.append({ type: 'pipeline_duplicate_logged', mac: t.deviceId, imageName: m.image_name });
    const tr = this.bindTransfer(
      routeKey(t.deviceId, m.image_name),
      t,
      route,
      storedName,
      imageId,
      m.max_chunk_size,
      'complete',
    );
    // The device dequeues an image only on ACK_OK (PROTOCOL.md §1): a re-send of a stored image is acknowledged.
    this.sendAck(tr, this.o.nextWakeMs(tr.mac, this.o.clock.nowMs()), 'found_complete');
  }

  /** The cached transfer of this route, kept when it is the same image row (its known-chunk map stays valid). */
  private bindTransfer(
    key: string,
    t: Topic,
    route: TransferRoute,
    storedName: string,
    imageId: string,
    chunkBytes: number | null,
    state: TransferState,
  ): Transfer {
    const cached = this.routes.get(key);
    if (cached !== undefined && cached.imageId === imageId && cached.totalChunks === route.totalChunks) {
      cached.dialect = t.dialect;
      if (state === 'complete') cached.state = 'complete';
      else if (cached.state === 'failed') cached.state = 'receiving';
      return cached;
    }
    const tr = new Transfer(
      t.deviceId,
      t.dialect,
      route.deviceId,
      route.wireName,
      storedName,
      imageId,
      route.captureTimestamp,
      route.imageSize,
      route.totalChunks,
      chunkBytes,
      state,
      this.o.clock.nowMs(),
    );
    this.routes.set(key, tr);
    return tr;
  }

  // ---- chunks (the hot path: no promise, no database round trip when the route is cached) ----------------------

  private onChunk(t: Topic, c: Chunk, topic: string, payload: Buffer): void | Promise<void> {
    try {
      return this.routeChunk(t, c, topic, payload);
    } catch (error) {
      this.reject(topic, payload, t.deviceId, 'internal_error', `chunk handler failed: ${errorText(error)}`);
    }
  }

  private routeChunk(t: Topic, c: Chunk, topic: string, payload: Buffer): void | Promise<void> {
    const key = routeKey(t.deviceId, c.image_name);
    const tr = this.routes.get(key);
    if (tr !== undefined) {
      this.acceptChunk(tr, t, c, topic, payload);
      return;
    }
    // legacy-memory-chunks keeps routes in memory only: after a restart a chunk finds "no metadata" (§7.3).
    if (this.memory !== undefined || this.routes.isKnownAbsent(key, this.o.clock.nowMs())) {
      this.rejectChunkWithoutRoute(t, c, topic, payload);
      return;
    }
    return this.loadRoute(t, c.image_name, key).then(
      (loaded) => {
        try {
          if (loaded === undefined) {
            this.routes.markAbsent(key, this.o.clock.nowMs());
            this.rejectChunkWithoutRoute(t, c, topic, payload);
          } else this.acceptChunk(loaded, t, c, topic, payload);
        } catch (error) {
          this.reject(topic, payload, t.deviceId, 'internal_error', `chunk handler failed: ${errorText(error)}`);
        }
      },
      (error: unknown) =>
        this.reject(topic, payload, t.deviceId, 'internal_error', `route lookup failed: ${errorText(error)}`),
    );
  }

  private acceptChunk(tr: Transfer, t: Topic, c: Chunk, topic: string, payload: Buffer): void {
    const now = this.o.clock.nowMs();
    if (tr.missingRequests === 0) this.deliveryLag.observe(now - tr.lastActivityMs, now);
    tr.lastActivityMs = now;
    const decision = decideChunk(tr, c.chunk_id, c.payload.byteLength);
    if (decision.kind === 'reject') {
      this.reject(topic, payload, t.deviceId, decision.code, `${c.image_name}: ${decision.reason}`);
      return;
    }
    if (tr.state === 'complete' || tr.state === 'failed' || tr.known[c.chunk_id] === 1) {
      this.counters.chunksDuplicate++;
      return;
    }
    tr.known[c.chunk_id] = 1;
    if (this.memory === undefined) {
      this.batcher.add(tr, c.chunk_id, c.payload);
      return;
    }
    this.counters.chunksStored++;
    if (this.memory.add(tr.imageId, tr.totalChunks, c.chunk_id, c.payload) >= tr.totalChunks) {
      this.completer.request(tr);
    }
  }

  /** legacy-ttl: chunks of these images are gone; forget having had them, so re-sent chunks are stored again. */
  private onChunksExpired(
    expired: readonly { imageId: string; chunksDeleted: number; receivedChunks: number }[],
  ): void {
    const byId = new Map(expired.map((e) => [e.imageId, e]));
    for (const tr of this.routes.values()) {
      if (byId.has(tr.imageId) && tr.state !== 'complete') tr.known.fill(0);
    }
    for (const e of expired) {
      this.o.log(
        `pipeline: chunk buffer expired for image ${e.imageId}: ${e.chunksDeleted} chunks deleted, received_chunks now ${e.receivedChunks}`,
      );
    }
  }

  private rejectChunkWithoutRoute(t: Topic, c: Chunk, topic: string, payload: Buffer): void {
    this.reject(
      topic,
      payload,
      t.deviceId,
      'chunk_before_metadata',
      `chunk ${c.chunk_id} of ${c.image_name}: no metadata for this image from ${t.deviceId}`,
    );
  }

  /**
   * After a restart (profile `fixed`, durable chunk store): transfers still in flight become routes again, so the
   * sweeper asks their devices for what is missing once they fall idle — instead of each device waiting out its
   * ACK timeout because its last chunks died with the crashed process. The original's in-memory profiles did not.
   */
  private async adoptIncompleteTransfers(): Promise<void> {
    if (this.o.profile !== 'fixed') return;
    const routes = await this.retried(
      () => findIncompleteRoutes(this.pool, ADOPT_UPDATED_WITHIN_MS),
      'incomplete transfers',
    );
    for (const r of routes) {
      const key = routeKey(r.mac, r.wireName);
      if (this.routes.get(key) === undefined) this.routes.set(key, this.transferOf(r.mac, r.wireName, r, 'fw350'));
    }
    if (routes.length > 0) this.o.log(`pipeline: took over ${routes.length} transfers in flight`);
  }

  /** A Transfer for a durable route (its dialect as stored, else `fallbackDialect`). */
  private transferOf(mac: string, wireName: string, r: StoredRoute, fallbackDialect: Dialect): Transfer {
    const state: TransferState = r.status === 'complete' ? 'complete' : r.status === 'failed' ? 'failed' : 'receiving';
    const dialect = r.dialect === 'spec' || r.dialect === 'fw350' ? r.dialect : fallbackDialect;
    return new Transfer(
      mac,
      dialect,
      r.deviceId,
      wireName,
      r.storedName,
      r.imageId,
      r.captureTimestamp,
      r.imageSize,
      r.totalChunks,
      r.chunkBytes,
      state,
      this.o.clock.nowMs(),
    );
  }

  /** A route this process has not seen (e.g. after a restart), from image_transfers. */
  private async loadRoute(t: Topic, wireName: string, key: string): Promise<Transfer | undefined> {
    const r = await this.retried(() => findRoute(this.pool, t.deviceId, wireName), 'route lookup');
    if (r === undefined) return undefined;
    const cached = this.routes.get(key); // metadata may have bound it meanwhile
    if (cached !== undefined) return cached;
    const tr = this.transferOf(t.deviceId, wireName, r, t.dialect);
    this.routes.set(key, tr);
    return tr;
  }

  private onFlushed(batch: ChunkBatch, progress: readonly ImageProgress[]): void {
    let inserted = 0;
    let finished: Set<string> | undefined;
    for (const p of progress) {
      inserted += p.inserted;
      if (p.status !== 'complete' && p.totalChunks !== null && p.receivedChunks >= p.totalChunks) {
        (finished ??= new Set()).add(p.imageId);
      }
    }
    this.counters.chunksStored += inserted;
    this.counters.chunksDuplicate += batch.chunkIds.length - inserted;
    if (finished === undefined) return;
    for (const tr of batch.transfers) {
      if (finished.has(tr.imageId)) {
        finished.delete(tr.imageId);
        this.completer.request(tr);
      }
    }
  }

  private onFlushFailed(batch: ChunkBatch, error: unknown): void {
    this.counters.flushesFailed++;
    this.o.log(
      `pipeline: ${batch.chunkIds.length} chunks could not be written after ${FLUSH_ATTEMPTS} attempts (${errorText(error)}); ` +
        'they will be asked for again',
    );
    for (let i = 0; i < batch.transfers.length; i++) {
      const tr = batch.transfers[i];
      const id = batch.chunkIds[i];
      if (tr !== undefined && id !== undefined) tr.known[id] = 0;
    }
  }

  // ---- completion and replies ------------------------------------------------------------------------------------

  private async complete(tr: Transfer): Promise<void> {
    const wakeMs = this.o.nextWakeMs(tr.mac, this.o.clock.nowMs());
    const ackFirst = this.o.ackBeforeCommitForTest;
    if (ackFirst !== undefined) {
      // Test only (options.ts): the broken ordering the ACK-ordering test must catch.
      this.sendAck(tr, wakeMs, 'own_commit');
      await ackFirst();
    }
    let outcome: CompletionOutcome;
    try {
      outcome = await this.completions.call({
        imageId: tr.imageId,
        nextWakeAtIso: isoOrNull(wakeMs),
        ...(this.ackReceipts === undefined
          ? {}
          : { ackOwed: { mac: tr.mac, wireName: tr.wireName, dialect: tr.dialect } }),
      });
    } catch (error) {
      tr.state = 'receiving'; // the sweeper will try again
      this.o.log(`pipeline: could not complete ${tr.mac} ${tr.storedName}: ${errorText(error)}`);
      return;
    }
    switch (outcome.kind) {
      case 'completed':
        tr.state = 'complete';
        this.memory?.release(tr.imageId);
        this.counters.imagesCompleted++;
        this.o.history?.append({
          type: 'pipeline_committed',
          mac: tr.mac,
          imageName: tr.wireName,
          imageId: tr.imageId,
        });
        await this.o.afterCommitForTest?.();
        if (ackFirst === undefined) this.sendAck(tr, wakeMs, 'own_commit');
        return;
      case 'already_complete':
        tr.state = 'complete';
        this.memory?.release(tr.imageId);
        this.sendAck(tr, wakeMs, 'found_complete');
        return;
      case 'incomplete':
        tr.state = 'receiving';
        return;
      case 'invalid':
        tr.state = 'failed';
        this.counters.imagesFailed++;
        this.o.log(
          `pipeline: ${tr.mac} ${tr.storedName} failed verification (error_code ${outcome.errorCode}): ${outcome.reason}; not acknowledged`,
        );
        return;
      case 'gone':
        tr.state = 'failed';
        this.o.log(`pipeline: ${tr.mac} ${tr.storedName}: image row ${tr.imageId} no longer exists`);
        return;
    }
  }

  /**
   * ACK_OK only ever follows the commit that made the image complete (I7): callers hold that guarantee. Once the
   * broker has it, nothing is owed for the image any more (`fixed`: image_acks_owed).
   */
  private sendAck(tr: AckTarget, wakeMs: number, basis: AckBasis): void {
    const at = Number.isFinite(wakeMs) ? wakeMs : defaultNextWakeMs(tr.mac, this.o.clock.nowMs());
    const message: ServerMessage = { kind: 'ack_ok', image_name: tr.wireName, next_wake_time: formatWakeTime(at) };
    this.send(tr.mac, tr.dialect, message, async () => {
      this.counters.acksSent++;
      this.o.history?.append({ type: 'pipeline_acked', mac: tr.mac, imageName: tr.wireName, basis });
      await this.ackReceipts?.call(tr.imageId).catch((error: unknown) => {
        this.o.log(`pipeline: could not settle the ack of ${tr.mac} ${tr.wireName}: ${errorText(error)}`);
      });
    });
  }

  /**
   * After a restart (`fixed`): the ACK_OKs a crashed predecessor committed but never handed to the broker. Their
   * devices may still be awake and waiting; without this each would wait out its ACK timeout and re-send the
   * whole image. A device that has its ACK already ignores one for a name it no longer queues.
   */
  private async sendOwedAcks(): Promise<void> {
    if (this.ackReceipts === undefined) return;
    const owed = await this.retried(() => listOwedAcks(this.pool), 'owed acks');
    for (const a of owed) {
      const dialect: Dialect = a.dialect === 'spec' ? 'spec' : 'fw350';
      this.sendAck({ ...a, dialect }, a.nextWakeAtMs ?? Number.NaN, 'recovered');
    }
    if (owed.length > 0) this.o.log(`pipeline: sent ${owed.length} acks a crashed instance owed`);
  }

  private requestMissing(tr: Transfer, ids: readonly number[]): void {
    if (this.crashed) return;
    this.counters.missingRequests++;
    this.o.history?.append({
      type: 'pipeline_missing_requested',
      mac: tr.mac,
      imageName: tr.wireName,
      chunkIds: [...ids],
    });
    this.send(tr.mac, tr.dialect, { kind: 'missing_chunks', image_name: tr.wireName, missing_chunks: ids });
  }

  private send(
    mac: string,
    dialect: Topic['dialect'],
    message: ServerMessage,
    onSent?: () => void | Promise<void>,
  ): void {
    const link = this.link;
    if (link === undefined || this.crashed) return;
    const wire = encodeServerMessage(mac, message, dialect, { chunkIdBase: this.o.chunkIdBase });
    const p: Promise<void> = link.publish(wire.topic, wire.payload).then(
      () => onSent?.(),
      (error: unknown) => this.o.log(`pipeline: publish on ${wire.topic} failed: ${errorText(error)}`),
    );
    const tracked = p.finally(() => this.publishes.delete(tracked));
    this.publishes.add(tracked);
  }

  // ---- rejections ------------------------------------------------------------------------------------------------

  private reject(topic: string, payload: Buffer, mac: string | null, code: PipelineRejectCode, reason: string): void {
    if (this.crashed) return;
    this.counters.rejected++;
    this.counters.rejections[code] = (this.counters.rejections[code] ?? 0) + 1;
    this.o.history?.append({ type: 'pipeline_rejected', topic, code, reason });
    this.o.log(`pipeline: rejected ${code} on ${topic}: ${reason}`);
    this.recorder.add({
      topic: noNul(topic),
      deviceMac: mac,
      code,
      reason: noNul(reason),
      payloadBytes: payload.byteLength,
      payloadExcerpt: excerpt(payload),
    });
  }
}

/**
 * legacy-two-writers: the original's window (its 5 s timeout) lay between each writer's SELECT and its INSERT, so both
 * writers read before either wrote. The gate opens when both have read (or after RACE_GATE_MAX_MS, if one never
 * gets there), which makes that interleaving happen every time instead of now and then.
 */
const RACE_GATE_MAX_MS = 1000;

class RaceGate {
  readonly open: Promise<void>;
  private readonly arrived = new Set<'service' | 'edge'>();
  private release: () => void = () => {};

  constructor(clock: Clock) {
    this.open = new Promise<void>((resolve) => {
      const timer = clock.setTimeout(resolve, RACE_GATE_MAX_MS);
      this.release = () => {
        clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  arrive(writer: 'service' | 'edge'): void {
    this.arrived.add(writer);
    if (this.arrived.size === 2) this.release();
  }
}

function isServerChannel(topic: string): boolean {
  const t = parseTopic(topic);
  return t.ok && (t.value.channel === 'cmd' || t.value.channel === 'ack');
}

function macOfTopic(topic: string): string | null {
  const t = parseTopic(topic);
  return t.ok ? t.value.deviceId : null;
}

/** The first characters of a payload as text (invalid UTF-8 replaced, NUL dropped: Postgres text refuses it). */
function excerpt(payload: Buffer): string {
  return noNul(
    payload
      .subarray(0, EXCERPT_CHARS * 4)
      .toString('utf8')
      .slice(0, EXCERPT_CHARS),
  );
}

function noNul(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '') : s;
}

/** Why the pipeline may acknowledge (I7): its own commit, a row it found complete, or an ACK a crashed instance owed. */
type AckBasis = 'own_commit' | 'found_complete' | 'recovered';

/** Where an ACK_OK goes and what it names. */
type AckTarget = Pick<Transfer, 'mac' | 'dialect' | 'wireName' | 'imageId'>;

function isoOrNull(ms: number): string | null {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : null;
}

function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
