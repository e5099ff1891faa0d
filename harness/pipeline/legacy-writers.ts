// The original service's plain-SQL writes of metadata (store/legacy.ts), for every legacy profile; they run on the
// base stage. What differs per profile is data (core/profile.ts): legacy-insert's unique violation is a refusal of
// the message; legacy-two-writers has a second writer (the "edge function") racing the service through a window
// between SELECT and INSERT, and on a stage with the unique key the loser resumes the winner's row;
// legacy-reset-count's resume sets received_chunks to 0.
import type { Clock } from '../world/clock.ts';
import type { Metadata, Topic } from '../../simulator/protocol/index.ts';
import { decideMetadata } from './core/metadata.ts';
import { storedNameCandidates } from './core/names.ts';
import {
  edgeWriteOf,
  judgeInsertFailure,
  openRequestFor,
  sqlStateOf,
  type OpenRequest,
  type OpenResult,
} from './core/open.ts';
import type { ExternalEdge } from './options.ts';
import { MessageRefused, type ServiceContext } from './service-context.ts';
import { findImagesMany, upsertRoute } from './store/images.ts';
import { insertImageRow, resumeImageRow } from './store/legacy.ts';
import { errorText } from './store/pool.ts';

export class LegacyWriters {
  constructor(private readonly ctx: ServiceContext) {}

  /** Opens (INSERT) or resumes (UPDATE) the request's row with plain SQL, and routes the wire name to it. */
  async open(req: OpenRequest, gate: WriterGate | undefined): Promise<OpenResult> {
    const { ctx } = this;
    let imageId: string;
    if (req.existingImageId === null) {
      if (gate !== undefined) {
        await gate.open;
        await ctx.o.clock.sleep(ctx.o.writerRaceWindowMs);
      }
      try {
        imageId = await insertImageRow(ctx.pool, req);
      } catch (error) {
        const verdict = judgeInsertFailure(ctx.policy, sqlStateOf(error), req.storedName, errorText(error));
        if (verdict.kind === 'rethrow') throw error;
        if (verdict.kind === 'refuse') throw new MessageRefused(verdict.code, verdict.reason);
        ctx.o.log(verdict.logLine);
        const rows = await findImagesMany(ctx.pool, [{ deviceId: req.route.deviceId, names: [req.storedName] }]);
        const winner = rows[0]?.get(req.storedName);
        if (winner === undefined) throw error;
        return this.resume(winner.imageId, req);
      }
    } else {
      return this.resume(req.existingImageId, req);
    }
    await upsertRoute(ctx.pool, req.route, imageId);
    return { ok: true, imageId, isResume: false, alreadyComplete: false, receivedChunks: 0 };
  }

  private async resume(imageId: string, req: OpenRequest): Promise<OpenResult> {
    const { ctx } = this;
    const r = await resumeImageRow(ctx.pool, imageId, req, ctx.policy.resumeResetsCount);
    if (!r.alreadyComplete) await upsertRoute(ctx.pool, req.route, imageId);
    return { ok: true, imageId, isResume: true, alreadyComplete: r.alreadyComplete, receivedChunks: r.receivedChunks };
  }

  /**
   * legacy-two-writers: the edge function's handling of a metadata message — the same select-then-insert as the
   * service, with the same window, and nobody routes chunks to its row. Two writers that both find no row both
   * insert one (I1 on the base stage). Its errors are its own: logged, never the message's fate.
   */
  async edgeWriter(t: Topic, m: Metadata, deviceId: string, gate: RaceGate): Promise<void> {
    const { ctx } = this;
    try {
      const rows = await findImagesMany(ctx.pool, [
        { deviceId, names: storedNameCandidates(m.image_name, m.timestamp, m.image_size) },
      ]).finally(() => gate.arrive('edge'));
      const write = edgeWriteOf(decideMetadata(m, rows[0] ?? new Map()));
      if (write === undefined) return;
      const req = openRequestFor(m, write, { deviceId, dialect: t.dialect, nowMs: ctx.o.clock.nowMs() });
      if (write.kind === 'resume') {
        await resumeImageRow(ctx.pool, write.image.imageId, req, false);
        return;
      }
      await gate.open;
      await ctx.o.clock.sleep(ctx.o.writerRaceWindowMs);
      await insertImageRow(ctx.pool, req);
    } catch (error) {
      ctx.o.log(`pipeline: edge writer failed for ${t.deviceId} ${m.image_name}: ${errorText(error)}`);
    }
  }
}

/** Where the service waits between its SELECT and its INSERT for the other writer (legacy-two-writers). */
export interface WriterGate {
  /** Awaited by a writer about to INSERT. */
  readonly open: Promise<void>;
  /** A writer has read the rows. */
  arrive(writer: 'service' | 'edge'): void;
}

/**
 * legacy-two-writers with the edge function outside (PipelineOptions.externalEdge, a run's webhook handler): the
 * service tells the edge side when it has read, and its INSERT waits until the edge function answered the same
 * message (or the bounded wait ran out). Asked only on the INSERT path: a service that resumes or refuses waits for
 * nothing.
 */
export class ExternalEdgeGate implements WriterGate {
  private read = false;
  private answered: Promise<void> | undefined;

  constructor(
    private readonly edge: ExternalEdge,
    private readonly topic: string,
    private readonly payload: string,
  ) {}

  get open(): Promise<void> {
    this.answered ??= this.edge.handlerAnswered(this.topic, this.payload).then(() => {});
    return this.answered;
  }

  arrive(writer: 'service' | 'edge'): void {
    if (writer !== 'service' || this.read) return;
    this.read = true;
    this.edge.serviceRead(this.topic, this.payload);
  }
}

/**
 * legacy-two-writers: the original's window (its 5 s timeout) lay between each writer's SELECT and its INSERT, so both
 * writers read before either wrote. The gate opens when both have read (or after RACE_GATE_MAX_MS, if one never
 * gets there), which makes that interleaving happen every time instead of now and then.
 */
const RACE_GATE_MAX_MS = 1000;

export class RaceGate implements WriterGate {
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
