// The reference ingestion service (ARCHITECTURE.md §1, §5, §8): MQTT in, decisions from the pure core (core/),
// durable facts in Postgres (store/), replies out. This file only wires: decode → per-device lane → handler, and
// the components' lifecycle (connect, idle, stop, crash). The handlers are files of their own, each a thin loop of
// core decision → store call → core decision → send: metadata-handler.ts (with legacy-writers.ts), chunk-handler.ts,
// completion-path.ts (completion and ACK_OK, through the transfer state machine), restart-recovery.ts. What a
// profile changes is data (core/profile.ts); no file here asks which profile runs.
import type { Clock, TimerHandle } from '../world/clock.ts';
import { redactUrl } from '../world/redact.ts';
import type { Database } from '../world/sql.ts';
import {
  decodeDeviceMessage,
  encodeServerMessage,
  serverSubscriptions,
  type DecodeOptions,
  type Hello,
  type ServerMessage,
  type Telemetry,
  type Topic,
} from '../../simulator/protocol/index.ts';
import { decideHello } from './core/hello.ts';
import { policyOf, type ProfilePolicy } from './core/profile.ts';
import {
  countedRejectionRecord,
  isOwnReply,
  macOfTopic,
  rejectionRecord,
  type PipelineRejectCode,
} from './core/rejection.ts';
import { RejectionLimiter } from './core/rejection-limit.ts';
import { sweepIdleMs } from './core/sweep.ts';
import { ChunkBatcher } from './chunk-batcher.ts';
import { ChunkExpiry } from './chunk-expiry.ts';
import { ChunkHandler } from './chunk-handler.ts';
import { CompletionPath } from './completion-path.ts';
import { Completer } from './completer.ts';
import { DeviceDirectory } from './device-directory.ts';
import { GroupCall } from './group-call.ts';
import { Lanes } from './lanes.ts';
import { MemoryChunkStore } from './memory-chunks.ts';
import { MetadataHandler } from './metadata-handler.ts';
import { consumerThreadLink } from './consumer-thread.ts';
import type { MqttLink } from './mqtt-link.ts';
import { sharedFilters, type ResolvedOptions } from './options.ts';
import { RejectionRecorder } from './rejection-recorder.ts';
import { RestartRecovery } from './restart-recovery.ts';
import { MessageRefused, type ServiceContext } from './service-context.ts';
import { emptyStats, snapshotStats, type PipelineStats } from './stats.ts';
import { storedChunkIds } from './store/chunks.ts';
import { touchDevices, type DeviceSighting } from './store/devices.ts';
import { expireChunks, setReceivedChunks } from './store/legacy.ts';
import { errorText, retryOnConnectionLoss, withRetry } from './store/pool.ts';
import type { SchemaFeatures } from './store/schema-check.ts';
import { insertRejections } from './store/rejections.ts';
import { MissingChunksSweeper } from './sweeper.ts';
import { RouteCache } from './transfers.ts';

/** Pipeline-side rejection codes beyond the codec's (RejectCode): the core's (core/rejection.ts). */
export type { PipelineRejectCode } from './core/rejection.ts';

/** Completions queued at once (they are written in batches, one batch at a time: completion-path.ts). */
const COMPLETIONS_CONCURRENT_MAX = 10_000;
/** Above these, the MQTT link stops reading (mqtt-link.ts). */
const BUFFERED_ROWS_HIGH = 20_000;
const LANE_TASKS_HIGH = 20_000;
/** At a quarter of those the pipeline is behind: a simulated fleet stops waking more devices (Fleet's wakesHeld). */
const BEHIND_FRACTION = 0.25;
const STOP_IDLE_TIMEOUT_MS = 15_000;

export class PipelineService {
  private readonly o: ResolvedOptions;
  private readonly policy: ProfilePolicy;
  private readonly counters: PipelineStats = emptyStats();
  private readonly lanes: Lanes;
  private readonly routes = new RouteCache();
  private readonly devices: DeviceDirectory;
  private readonly batcher: ChunkBatcher;
  private readonly completer: Completer;
  private readonly sweeper: MissingChunksSweeper;
  private readonly recorder: RejectionRecorder;
  private readonly touches: GroupCall<DeviceSighting, true>;
  private readonly publishes = new Set<Promise<void>>();
  private readonly decodeOptions: DecodeOptions;
  /** legacy-memory-chunks: where chunks live instead of image_chunks. */
  private readonly memory: MemoryChunkStore | undefined;
  /** legacy-ttl: the job that expires stored chunks. */
  private readonly expiry: ChunkExpiry | undefined;
  private readonly rejections: RejectionLimiter;
  /** Armed while refusals are counted: writes them when their minute ends, whether or not another refusal comes. */
  private countedTimer: TimerHandle | undefined;
  private readonly metadata: MetadataHandler;
  private readonly chunks: ChunkHandler;
  private readonly completion: CompletionPath;
  private readonly recovery: RestartRecovery;
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
    const policy = policyOf(o.profile);
    this.policy = policy;
    this.decodeOptions = { chunkIdBase: o.chunkIdBase };
    this.lanes = new Lanes((key, error) =>
      this.o.log(`pipeline: unexpected error for device ${key}: ${errorText(error)}`),
    );
    this.devices = new DeviceDirectory(pool, (n) => (this.counters.devicesProvisioned += n), o.log, clock);
    const memory =
      policy.chunksIn === 'memory'
        ? new MemoryChunkStore({
            writeCounts: (ids, counts) => setReceivedChunks(pool, ids, counts),
            flushIntervalMs: Math.max(o.flushIntervalMs, 20),
            log: o.log,
            clock,
          })
        : undefined;
    this.memory = memory;
    this.completer = new Completer((t) => this.completion.complete(t), COMPLETIONS_CONCURRENT_MAX);
    this.rejections = new RejectionLimiter(o.rejectionLimits);
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
    const ctx: ServiceContext = {
      o,
      policy,
      pool,
      schema,
      counters: this.counters,
      routes: this.routes,
      memory,
      completer: this.completer,
      crashed: () => this.crashed,
      retried: (work, what) => this.retried(work, what),
      send: (mac, dialect, message, onSent) => this.send(mac, dialect, message, onSent),
      reject: (topic, payload, mac, code, reason) => this.reject(topic, payload, mac, code, reason),
      runInLane: (deviceId, task) => this.lanes.run(deviceId, task),
      laneBusy: (deviceId) => this.lanes.isBusy(deviceId),
    };
    this.completion = new CompletionPath(ctx);
    this.chunks = new ChunkHandler(ctx);
    this.batcher = this.chunks.batcher;
    this.metadata = new MetadataHandler(ctx, this.devices, this.completion);
    this.recovery = new RestartRecovery(ctx, this.completion);
    this.touches = new GroupCall(
      async (reqs) => {
        await this.retried(() => touchDevices(pool, reqs), 'device update');
        return reqs.map(() => true as const);
      },
      { maxBatch: 500, concurrency: 1 },
    );
    this.expiry = policy.chunksExpire
      ? new ChunkExpiry({
          ttlMs: o.chunkTtlMs,
          expire: (ttlMs) =>
            expireChunks(pool, ttlMs, this.o.chunkAgeNow === 'clock' ? this.o.clock.nowMs() : undefined),
          onExpired: (expired) => this.chunks.onChunksExpired(expired),
          log: o.log,
          clock,
          // On a virtual clock time is not compressed: a job every second would be 3,600 transactions per hour of
          // deep sleep. A quarter of the TTL still expires a transfer well before the next wake, hours later.
          ...(o.chunkAgeNow === 'clock' ? { everyMs: Math.max(25, Math.floor(o.chunkTtlMs / 4)) } : {}),
        })
      : undefined;
    this.sweeper = new MissingChunksSweeper({
      transfers: () => this.routes.values(),
      storedChunkIds: (ids) =>
        memory === undefined ? storedChunkIds(pool, ids) : Promise.resolve(memory.storedChunkIds(ids)),
      idleMs: () => sweepIdleMs(o.missingChunksIdleMs, this.chunks.deliveryLagMs(o.clock.nowMs())),
      requestsMax: o.missingChunksRequestsMax,
      clock,
      requestMissing: (t, ids) => this.chunks.requestMissing(t, ids),
      complete: (t) => this.completer.request(t),
      log: o.log,
    });
  }

  async connect(): Promise<void> {
    // A world's link (live: mqtt.js; sim: the in-memory router), or mqtt.js to brokerUrl when none was given.
    // A world's link (live: the consumer thread; sim: the in-memory router), or the consumer thread to brokerUrl.
    const connectLink = this.o.link ?? consumerThreadLink(this.o.brokerUrl, undefined, this.o.brokerCa);
    this.link = await connectLink({
      clientId: this.o.clientId,
      consumers: this.o.consumers,
      subscriptions: sharedFilters(this.o.subscriptions ?? serverSubscriptions(), this.o.sharedGroup),
      log: this.o.log,
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      pressured: () => this.backlogAbove(1),
      clock: this.o.clock,
    });
    await this.recovery.adoptInFlight();
    await this.recovery.sendOwedAcks();
    this.sweeper.start();
    this.expiry?.start();
    this.o.log(
      `pipeline: profile ${this.o.profile}, subscribed at ${redactUrl(this.o.brokerUrl)} as ${this.o.clientId}` +
        (this.o.sharedGroup === undefined
          ? ''
          : ` in shared group ${this.o.sharedGroup} (${this.o.consumers} connection${this.o.consumers === 1 ? '' : 's'})`),
    );
  }

  stats(): PipelineStats {
    return snapshotStats(this.counters);
  }

  /** Work received and not yet written has piled up (a quarter of the marks at which the link stops reading): a
   *  run's fleet waits before waking more devices (back-pressure from the pipeline to the fleet). */
  behind(): boolean {
    return this.backlogAbove(BEHIND_FRACTION);
  }

  private backlogAbove(fraction: number): boolean {
    return (
      this.batcher.bufferedRows > BUFFERED_ROWS_HIGH * fraction ||
      this.lanes.pending + this.chunks.heldForRoute > LANE_TASKS_HIGH * fraction
    );
  }

  /** Resolves when everything received so far has been handled, written and answered. */
  async idle(): Promise<void> {
    for (;;) {
      await this.lanes.idle();
      await this.chunks.idle();
      await this.batcher.drain();
      await this.completer.idle();
      await this.sweeper.idle();
      await this.memory?.drain();
      await this.expiry?.idle();
      await Promise.allSettled([...this.publishes]);
      // What the limiter counted so far is written now (also what the lanes refused while draining): whoever waits
      // for idle reads rejected_messages next.
      this.recordCountedRejections(this.o.clock.nowMs(), true);
      await this.recorder.drain();
      const busy =
        this.lanes.busy ||
        this.chunks.busy ||
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
    this.o.clock.clearTimeout(this.countedTimer);
    this.sweeper.stop();
    this.expiry?.stop();
    this.chunks.stop();
    this.batcher.discard();
    this.memory?.discard();
    this.recorder.discard();
    await this.link?.destroy().catch(() => {});
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
    this.chunks.stop();
    this.o.clock.clearTimeout(this.countedTimer);
    this.recordCountedRejections('all');
    await this.recorder.drain().catch(() => {});
    await this.pool.end().catch(() => {});
    this.o.log('pipeline: stopped');
  }

  // ---- messages -------------------------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer): void {
    if (this.crashed) return;
    this.sweeper.wake();
    const decoded = decodeDeviceMessage(topic, payload, this.decodeOptions);
    if (!decoded.ok) {
      if (isOwnReply(decoded.error.code, topic)) return;
      this.counters.messages++;
      this.reject(topic, payload, macOfTopic(topic), decoded.error.code, decoded.error.reason);
      return;
    }
    this.counters.messages++;
    const { topic: t, message } = decoded.value;
    switch (message.kind) {
      case 'chunk':
        this.counters.chunksReceived++;
        this.lanes.run(t.deviceId, () => this.chunks.onChunk(t, message, topic, payload));
        return;
      case 'metadata':
        this.counters.metadata++;
        this.lanes.run(t.deviceId, () =>
          this.guard(topic, payload, t, () => this.metadata.onMetadata(t, message, topic, payload)),
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

  // ---- the handlers' outlets (service-context.ts) ------------------------------------------------------------------

  /** `work` once more on a fresh connection when the connection was lost under it (store/pool.ts). */
  private retried<T>(work: () => Promise<T>, what: string): Promise<T> {
    return retryOnConnectionLoss(work, this.o.log, what, { clock: this.o.clock });
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

  private reject(topic: string, payload: Buffer, mac: string | null, code: PipelineRejectCode, reason: string): void {
    if (this.crashed) return;
    this.counters.rejected++;
    this.counters.rejections[code] = (this.counters.rejections[code] ?? 0) + 1;
    this.o.history?.append({ type: 'pipeline_rejected', topic, code, reason });
    // Bounded (core/rejection-limit.ts): a device's refusals past the cap per minute are counted, not stored one by
    // one, and log lines past theirs are counted too.
    const nowMs = this.o.clock.nowMs();
    const decision = this.rejections.admit(nowMs, mac, topic, code);
    if (decision.log) this.o.log(`pipeline: rejected ${code} on ${topic}: ${reason}`);
    if (decision.store) this.recorder.add(rejectionRecord(topic, payload, mac, code, reason));
    else {
      this.counters.rejectedCounted++;
      const endMs = this.rejections.windowEndMs;
      if (this.countedTimer === undefined && endMs !== undefined)
        this.countedTimer = this.o.clock.setTimeout(() => {
          this.countedTimer = undefined;
          if (!this.crashed) this.recordCountedRejections(this.o.clock.nowMs());
        }, endMs - nowMs);
    }
    this.recordCountedRejections(nowMs);
  }

  /** Rows for the refusals counted in minutes that are over (`soFar`: and in this one; `all`: at stop), and a line
   *  for the unlogged ones of minutes that are over. */
  private recordCountedRejections(nowMs: number | 'all', soFar = false): void {
    const rows =
      nowMs !== 'all' && soFar ? this.rejections.takeCountedSoFar(nowMs) : this.rejections.takeCounted(nowMs);
    for (const counted of rows)
      this.recorder.add(countedRejectionRecord(counted, this.o.rejectionLimits.rowsPerDeviceMinute));
    for (const { lines } of this.rejections.takeUnlogged(nowMs))
      this.o.log(
        `pipeline: ${lines} more rejections in a minute not logged (at most ${this.o.rejectionLimits.logLinesPerMinute} lines a minute; all are counted and recorded)`,
      );
  }
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
