// Metadata in (PROTOCOL.md §3, §6): read the rows under the capture's candidate names, let the core decide the row
// (core/metadata.ts: create / resume / duplicate / name reuse / reject), build the request (core/open.ts), open it
// in the store — fn_wake_ingestion_handler, or the original's plain SQL for the legacy profiles
// (legacy-writers.ts) — and bind the transfer that chunks will follow. A re-send of a stored image is logged and
// acknowledged again.
import type { Metadata, Topic } from '../../simulator/protocol/index.ts';
import type { ImageFacts } from './core/facts.ts';
import { decideMetadata, refuseBeforeLookup, type MetadataDecision } from './core/metadata.ts';
import { storedNameCandidates } from './core/names.ts';
import { judgeOpened, openRequestFor, type OpenRequest, type OpenResult } from './core/open.ts';
import { duplicateLogging, receivedChunksRewrite, storedOnOpen } from './core/profile.ts';
import { isAllStored } from './core/progress.ts';
import { transferStep, type TransferEvent, type TransferStep } from './core/transfer-state.ts';
import type { CompletionPath } from './completion-path.ts';
import type { DeviceDirectory } from './device-directory.ts';
import { GroupCall } from './group-call.ts';
import { ExternalEdgeGate, LegacyWriters, RaceGate, type WriterGate } from './legacy-writers.ts';
import type { ServiceContext } from './service-context.ts';
import {
  findImagesMany,
  logDuplicate,
  logNameReuse,
  openTransfers,
  upsertRoute,
  type ImageLookup,
} from './store/images.ts';
import { logDuplicatePlain, setReceivedChunks } from './store/legacy.ts';
import { routeKey, Transfer } from './transfers.ts';

const OPENED: TransferEvent = { kind: 'opened' };
const FOUND_COMPLETE: TransferEvent = { kind: 'found_complete' };

export class MetadataHandler {
  // Natural batching of the per-message database calls (group-call.ts).
  private readonly lookups: GroupCall<ImageLookup, Map<string, ImageFacts>>;
  private readonly opens: GroupCall<OpenRequest, OpenResult>;
  private readonly legacy: LegacyWriters;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly devices: DeviceDirectory,
    private readonly completion: CompletionPath,
  ) {
    const pool = ctx.pool;
    // A killed database connection fails the statement on it; the same statement on a fresh one is retried.
    this.lookups = new GroupCall((reqs) => ctx.retried(() => findImagesMany(pool, reqs), 'image lookup'), {
      maxBatch: 500,
      concurrency: 2,
    });
    // A device has one metadata in flight at a time (lanes), so concurrent batches never touch the same rows.
    // (A retried handler call whose first attempt did commit finds its row: the handler resumes it.)
    this.opens = new GroupCall((reqs) => ctx.retried(() => openTransfers(pool, reqs), 'opening transfers'), {
      maxBatch: 200,
      concurrency: 2,
    });
    this.legacy = new LegacyWriters(ctx);
  }

  async onMetadata(t: Topic, m: Metadata, topic: string, payload: Buffer): Promise<void> {
    const { ctx } = this;
    const refused = refuseBeforeLookup(m);
    if (refused !== undefined) {
      ctx.reject(topic, payload, t.deviceId, refused.code, refused.reason);
      return;
    }
    const deviceId = await this.devices.ensure(t.deviceId);
    // legacy-two-writers: the "edge function" handles the same message at the same time (PROTOCOL.md §7.2): in
    // this process, or outside it (the run forwards every message to the user's handler) and met at the gate.
    const external = ctx.policy.edgeWriter ? ctx.o.externalEdge : undefined;
    const raceGate = ctx.policy.edgeWriter && external === undefined ? new RaceGate(ctx.o.clock) : undefined;
    const gate: WriterGate | undefined =
      external !== undefined ? new ExternalEdgeGate(external, topic, payload.toString('utf8')) : raceGate;
    const edge = raceGate === undefined ? undefined : this.legacy.edgeWriter(t, m, deviceId, raceGate);
    try {
      await this.serve(t, m, topic, payload, deviceId, gate);
    } finally {
      gate?.arrive('service');
      if (edge !== undefined) await edge;
    }
  }

  /** Which row this metadata goes to. legacy-insert looks nothing up: every metadata creates a row (§7.1). */
  private async decide(m: Metadata, deviceId: string): Promise<MetadataDecision> {
    if (!this.ctx.policy.looksUpRows) return decideMetadata(m, new Map());
    const rows = await this.lookups.call({
      deviceId,
      names: storedNameCandidates(m.image_name, m.timestamp, m.image_size),
    });
    return decideMetadata(m, rows);
  }

  private async serve(
    t: Topic,
    m: Metadata,
    topic: string,
    payload: Buffer,
    deviceId: string,
    gate: WriterGate | undefined,
  ): Promise<void> {
    const { ctx } = this;
    const mac = t.deviceId;
    const decision = await this.decide(m, deviceId);
    gate?.arrive('service');
    const key = routeKey(mac, m.image_name);
    ctx.routes.clearAbsent(key);
    if (decision.kind === 'reject') {
      ctx.reject(topic, payload, mac, decision.code, decision.reason);
      return;
    }
    const now = ctx.o.clock.nowMs();
    const request = openRequestFor(m, decision, { deviceId, dialect: t.dialect, nowMs: now });
    if (decision.kind === 'duplicate') {
      await this.acceptDuplicate(t, m, request, decision.image.imageId);
      return;
    }
    const opened =
      ctx.policy.opensWith === 'handler' ? await this.opens.call(request) : await this.legacy.open(request, gate);
    const verdict = judgeOpened(request.storedName, opened);
    if (verdict.kind === 'refused') throw new Error(verdict.reason);
    if (verdict.kind === 'found_complete') {
      await this.acceptDuplicate(t, m, request, verdict.imageId);
      return;
    }
    const { tr } = this.bindTransfer(key, t, request, verdict.imageId, m.max_chunk_size, OPENED);
    tr.missingRequests = 0;
    tr.lastActivityMs = now;
    const { storedName } = request;
    if (decision.kind === 'create' && decision.reused !== undefined) {
      ctx.counters.namesReused++;
      ctx.o.log(
        `pipeline: ${mac} reused the name ${m.image_name} for a new capture (${m.timestamp}); stored as ${storedName}`,
      );
      if (ctx.schema.duplicateLog) await logNameReuse(ctx.pool, deviceId, decision.reused.imageId, request.metadata);
      ctx.o.history?.append({ type: 'pipeline_name_reused', mac, imageName: m.image_name, storedName });
    }
    const rewrite = receivedChunksRewrite(ctx.policy, verdict, this.heldInMemory(verdict.imageId));
    if (rewrite !== null) await setReceivedChunks(ctx.pool, [verdict.imageId], [rewrite]);
    // Resume with every chunk already stored (e.g. the pipeline stopped between the last chunk and completion).
    const stored = storedOnOpen(ctx.policy, verdict, this.heldInMemory(verdict.imageId));
    if (isAllStored(stored, m.total_chunk_count)) ctx.completer.request(tr);
  }

  private heldInMemory(imageId: string): number {
    return this.ctx.memory?.count(imageId) ?? 0;
  }

  /** A re-send of a stored image (or one another writer completed meanwhile): logged (I6), routed, acknowledged
   *  again — the device dequeues an image only on ACK_OK (PROTOCOL.md §1). */
  private async acceptDuplicate(t: Topic, m: Metadata, request: OpenRequest, imageId: string): Promise<void> {
    const { ctx } = this;
    const { route, storedName, metadata } = request;
    switch (duplicateLogging(ctx.policy, ctx.schema.duplicateLog)) {
      case 'function': {
        const logId = await ctx.retried(
          () => logDuplicate(ctx.pool, route.deviceId, storedName, metadata),
          'logging a duplicate',
        );
        if (logId === null) ctx.o.log(`pipeline: fn_log_duplicate_image did not log ${t.deviceId} ${storedName}`);
        break;
      }
      case 'plain_sql':
        await logDuplicatePlain(ctx.pool, imageId, metadata);
        break;
      case 'none':
        break;
    }
    await ctx.retried(() => upsertRoute(ctx.pool, route, imageId), 'routing a duplicate');
    ctx.counters.duplicatesLogged++;
    ctx.o.history?.append({
      type: 'pipeline_duplicate_logged',
      mac: t.deviceId,
      imageName: m.image_name,
      captureTimestamp: m.timestamp,
    });
    const { tr, step } = this.bindTransfer(
      routeKey(t.deviceId, m.image_name),
      t,
      request,
      imageId,
      m.max_chunk_size,
      FOUND_COMPLETE,
    );
    if (step.ack !== null) this.completion.sendAck(tr, ctx.o.nextWakeMs(tr.mac, ctx.o.clock.nowMs()), step.ack);
  }

  /**
   * The transfer of this route after `event` (opened, or found complete): the cached one when it is the same image
   * row (its known-chunk map stays valid), else a new one.
   */
  private bindTransfer(
    key: string,
    t: Topic,
    request: OpenRequest,
    imageId: string,
    chunkBytes: number | null,
    event: TransferEvent,
  ): { readonly tr: Transfer; readonly step: TransferStep } {
    const { routes, o } = this.ctx;
    const route = request.route;
    const cached = routes.get(key);
    if (cached !== undefined && cached.imageId === imageId && cached.totalChunks === route.totalChunks) {
      cached.dialect = t.dialect;
      const step = transferStep(cached.state, event);
      cached.state = step.state;
      return { tr: cached, step };
    }
    const step = transferStep('receiving', event);
    const tr = new Transfer(
      t.deviceId,
      t.dialect,
      route.deviceId,
      route.wireName,
      request.storedName,
      imageId,
      route.captureTimestamp,
      route.imageSize,
      route.totalChunks,
      chunkBytes,
      step.state,
      o.clock.nowMs(),
    );
    routes.set(key, tr);
    return { tr, step };
  }
}
