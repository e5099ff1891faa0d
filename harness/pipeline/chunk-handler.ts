// Chunks in (PROTOCOL.md §3), missing_chunks out (§4). The hot path: no promise and no database round trip when
// the route is cached. A chunk finds its transfer (cached, else its durable route), the core decides (valid?
// duplicate? — core/chunk.ts, core/transfer-state.ts), the batcher writes it (or legacy-memory-chunks holds it),
// and a transfer whose chunks are all stored is completed (core/progress.ts).
import type { Chunk, Topic } from '../../simulator/protocol/index.ts';
import { ChunkBatcher, type ChunkBatch } from './chunk-batcher.ts';
import { decideChunk } from './core/chunk.ts';
import { finishedImageIds, isAllStored } from './core/progress.ts';
import { chunkArrival, transferStep, type TransferEvent } from './core/transfer-state.ts';
import { DeliveryLag } from './delivery-lag.ts';
import type { FlushedImage } from './options.ts';
import type { ServiceContext } from './service-context.ts';
import { writeChunks, type ImageProgress } from './store/chunks.ts';
import { findRoute } from './store/images.ts';
import type { ExpiredTransfer } from './store/legacy.ts';
import { errorText, withRetry } from './store/pool.ts';
import { RouteWait } from './route-wait.ts';
import { routeKey, transferFromRoute, type Transfer } from './transfers.ts';

const CHUNK_BATCH_ROWS_MAX = 2000;
const FLUSH_ATTEMPTS = 4;
const EXPIRED: TransferEvent = { kind: 'expired' };

export class ChunkHandler {
  readonly batcher: ChunkBatcher;
  /** How late chunks arrive right now (the sweeper waits that much longer before asking). */
  private readonly deliveryLag: DeliveryLag;
  /** Chunks that came before their route (a shared subscription's other consumers). */
  private readonly routeWait: RouteWait<Transfer>;

  constructor(private readonly ctx: ServiceContext) {
    const { o, pool } = ctx;
    this.deliveryLag = new DeliveryLag(o.missingChunksIdleMs);
    this.routeWait = new RouteWait<Transfer>({
      waitMs: o.routeWaitMs,
      clock: o.clock,
      onError: (key, error) => o.log(`pipeline: route lookup for ${key} failed: ${errorText(error)}`),
    });
    this.batcher = new ChunkBatcher({
      write: (batch) =>
        withRetry(
          FLUSH_ATTEMPTS,
          () => writeChunks(pool, batch),
          (error, attempt) =>
            o.log(
              `pipeline: writing ${batch.chunkIds.length} chunks failed (attempt ${attempt}), retrying: ${errorText(error)}`,
            ),
          o.clock,
        ),
      flushIntervalMs: o.flushIntervalMs,
      maxRows: CHUNK_BATCH_ROWS_MAX,
      onFlushed: (batch, progress) => this.onFlushed(batch, progress),
      onFailed: (batch, error) => this.onFlushFailed(batch, error),
      clock: o.clock,
    });
  }

  /** Chunks held for their route right now. */
  get heldForRoute(): number {
    return this.routeWait.held;
  }

  get busy(): boolean {
    return this.routeWait.busy;
  }

  /** Resolves when no chunk waits for its route. */
  idle(): Promise<void> {
    return this.routeWait.idle();
  }

  /** A crash or stop: held chunks are dropped, as buffered ones are. */
  stop(): void {
    this.routeWait.stop();
  }

  deliveryLagMs(nowMs: number): number {
    return this.deliveryLag.currentMs(nowMs);
  }

  onChunk(t: Topic, c: Chunk, topic: string, payload: Buffer): void | Promise<void> {
    try {
      return this.routeChunk(t, c, topic, payload);
    } catch (error) {
      this.ctx.reject(topic, payload, t.deviceId, 'internal_error', `chunk handler failed: ${errorText(error)}`);
    }
  }

  private routeChunk(t: Topic, c: Chunk, topic: string, payload: Buffer): void | Promise<void> {
    const { ctx } = this;
    const key = routeKey(t.deviceId, c.image_name);
    const tr = ctx.routes.get(key);
    if (tr !== undefined) {
      this.acceptChunk(tr, t, c, topic, payload);
      return;
    }
    // legacy-memory-chunks keeps routes in memory only: after a restart a chunk finds "no metadata" (§7.3).
    if (!ctx.policy.routesDurable || ctx.routes.isKnownAbsent(key, ctx.o.clock.nowMs())) {
      this.rejectChunkWithoutRoute(t, c, topic, payload);
      return;
    }
    if (this.routeWait.isWaiting(key)) {
      this.holdForRoute(t, c, topic, payload, key);
      return;
    }
    return this.loadRoute(t, c.image_name, key).then(
      (loaded) => {
        try {
          if (loaded === undefined && this.routeWait.enabled) this.holdForRoute(t, c, topic, payload, key);
          else if (loaded === undefined) {
            ctx.routes.markAbsent(key, ctx.o.clock.nowMs());
            this.rejectChunkWithoutRoute(t, c, topic, payload);
          } else this.acceptChunk(loaded, t, c, topic, payload);
        } catch (error) {
          ctx.reject(topic, payload, t.deviceId, 'internal_error', `chunk handler failed: ${errorText(error)}`);
        }
      },
      (error: unknown) =>
        ctx.reject(topic, payload, t.deviceId, 'internal_error', `route lookup failed: ${errorText(error)}`),
    );
  }

  private acceptChunk(tr: Transfer, t: Topic, c: Chunk, topic: string, payload: Buffer): void {
    const { ctx } = this;
    const now = ctx.o.clock.nowMs();
    if (tr.missingRequests === 0) this.deliveryLag.observe(now - tr.lastActivityMs, now);
    tr.lastActivityMs = now;
    const decision = decideChunk(tr, c.chunk_id, c.payload.byteLength);
    if (decision.kind === 'reject') {
      ctx.reject(topic, payload, t.deviceId, decision.code, `${c.image_name}: ${decision.reason}`);
      return;
    }
    if (chunkArrival(tr.state, tr.known[c.chunk_id] === 1) === 'duplicate') {
      ctx.counters.chunksDuplicate++;
      return;
    }
    tr.known[c.chunk_id] = 1;
    const memory = ctx.memory;
    if (memory === undefined) {
      this.batcher.add(tr, c.chunk_id, c.payload);
      return;
    }
    ctx.counters.chunksStored++;
    if (isAllStored(memory.add(tr.imageId, tr.totalChunks, c.chunk_id, c.payload), tr.totalChunks)) {
      ctx.completer.request(tr);
    }
  }

  /** Waits (outside the device's lane) for another consumer's metadata to bind or commit the route. */
  private holdForRoute(t: Topic, c: Chunk, topic: string, payload: Buffer, key: string): void {
    const { ctx } = this;
    this.routeWait.hold(
      key,
      {
        resume: (tr) =>
          ctx.runInLane(t.deviceId, () => {
            try {
              this.acceptChunk(tr, t, c, topic, payload);
            } catch (error) {
              ctx.reject(topic, payload, t.deviceId, 'internal_error', `chunk handler failed: ${errorText(error)}`);
            }
          }),
        refuse: () => {
          ctx.routes.markAbsent(key, ctx.o.clock.nowMs());
          this.rejectChunkWithoutRoute(t, c, topic, payload);
        },
      },
      async () => ctx.routes.get(key) ?? (await this.loadRoute(t, c.image_name, key)),
      () => ctx.laneBusy(t.deviceId),
    );
  }

  private rejectChunkWithoutRoute(t: Topic, c: Chunk, topic: string, payload: Buffer): void {
    this.ctx.reject(
      topic,
      payload,
      t.deviceId,
      'chunk_before_metadata',
      `chunk ${c.chunk_id} of ${c.image_name}: no metadata for this image from ${t.deviceId}`,
    );
  }

  /** A route this process has not seen (e.g. after a restart), from image_transfers. */
  private async loadRoute(t: Topic, wireName: string, key: string): Promise<Transfer | undefined> {
    const { ctx } = this;
    const r = await ctx.retried(() => findRoute(ctx.pool, t.deviceId, wireName), 'route lookup');
    if (r === undefined) return undefined;
    const cached = ctx.routes.get(key); // metadata may have bound it meanwhile
    if (cached !== undefined) return cached;
    const tr = transferFromRoute(t.deviceId, wireName, r, t.dialect, ctx.o.clock.nowMs());
    ctx.routes.set(key, tr);
    return tr;
  }

  private onFlushed(batch: ChunkBatch, progress: readonly ImageProgress[]): void {
    const { counters } = this.ctx;
    let inserted = 0;
    for (const p of progress) inserted += p.inserted;
    counters.chunksStored += inserted;
    counters.chunksDuplicate += batch.chunkIds.length - inserted;
    this.reportFlush(batch, progress);
    const finished = finishedImageIds(progress);
    if (finished === undefined) return;
    for (const tr of batch.transfers) {
      if (finished.has(tr.imageId)) {
        finished.delete(tr.imageId);
        this.ctx.completer.request(tr);
      }
    }
  }

  private reportFlush(batch: ChunkBatch, progress: readonly ImageProgress[]): void {
    const hook = this.ctx.o.afterChunkFlush;
    if (hook === undefined) return;
    const byId = new Map(progress.map((p) => [p.imageId, p]));
    const images: FlushedImage[] = [];
    for (const tr of batch.transfers) {
      const p = byId.get(tr.imageId);
      if (p === undefined) continue;
      byId.delete(tr.imageId); // a transfer appears once per chunk of the batch
      images.push({ mac: tr.mac, imageName: tr.wireName, receivedChunks: p.receivedChunks, status: p.status });
    }
    hook(images);
  }

  private onFlushFailed(batch: ChunkBatch, error: unknown): void {
    this.ctx.counters.flushesFailed++;
    this.ctx.o.log(
      `pipeline: ${batch.chunkIds.length} chunks could not be written after ${FLUSH_ATTEMPTS} attempts (${errorText(error)}); ` +
        'they will be asked for again',
    );
    // Unknown again: the device's re-sent chunks are stored, and the sweeper asks for them once the transfer idles.
    for (let i = 0; i < batch.transfers.length; i++) {
      const tr = batch.transfers[i];
      const id = batch.chunkIds[i];
      if (tr !== undefined && id !== undefined) tr.known[id] = 0;
    }
  }

  /** legacy-ttl: chunks of these images are gone; forget having had them, so re-sent chunks are stored again. */
  onChunksExpired(expired: readonly ExpiredTransfer[]): void {
    const { ctx } = this;
    const byId = new Set(expired.map((e) => e.imageId));
    for (const tr of ctx.routes.values()) {
      if (!byId.has(tr.imageId)) continue;
      const step = transferStep(tr.state, EXPIRED);
      tr.state = step.state;
      if (step.forgetKnownChunks) tr.known.fill(0);
    }
    for (const e of expired) {
      ctx.o.log(
        `pipeline: chunk buffer expired for image ${e.imageId}: ${e.chunksDeleted} chunks deleted, received_chunks now ${e.receivedChunks}`,
      );
    }
  }

  /** The sweeper found these chunks of `tr` absent: ask its device for them (missing_chunks). */
  requestMissing(tr: Transfer, ids: readonly number[]): void {
    const { ctx } = this;
    if (ctx.crashed()) return;
    ctx.counters.missingRequests++;
    ctx.o.history?.append({
      type: 'pipeline_missing_requested',
      mac: tr.mac,
      imageName: tr.wireName,
      chunkIds: [...ids],
    });
    ctx.send(tr.mac, tr.dialect, { kind: 'missing_chunks', image_name: tr.wireName, missing_chunks: ids });
  }
}
