// What the pipeline's wiring modules share (metadata-handler, legacy-writers, chunk-handler, completion-path,
// restart-recovery): the service (pipeline.ts) builds it once. Plain references and the service's three outlets —
// send a reply, record a rejection, retry a lost connection — so no module reaches into another's state.
import type { Dialect, ServerMessage } from '../../simulator/protocol/index.ts';
import type { ProfilePolicy } from './core/profile.ts';
import type { PipelineRejectCode } from './core/rejection.ts';
import type { Completer } from './completer.ts';
import type { MemoryChunkStore } from './memory-chunks.ts';
import type { ResolvedOptions } from './options.ts';
import type { PipelineStats } from './stats.ts';
import type { SchemaFeatures } from './store/schema-check.ts';
import type { RouteCache } from './transfers.ts';
import type { Database } from '../world/sql.ts';

export interface ServiceContext {
  /** Options; `log` is silent once the instance has crashed. */
  readonly o: ResolvedOptions;
  /** What the profile changes (core/profile.ts): the only way a module learns which profile runs. */
  readonly policy: ProfilePolicy;
  readonly pool: Database;
  readonly schema: SchemaFeatures;
  readonly counters: PipelineStats;
  readonly routes: RouteCache;
  /** legacy-memory-chunks: where chunks live instead of image_chunks. */
  readonly memory: MemoryChunkStore | undefined;
  readonly completer: Completer;
  /** crash() was called: nothing more is published, recorded or logged by this instance. */
  crashed(): boolean;
  /** `work` once more on a fresh connection when the connection was lost under it (store/pool.ts). */
  retried<T>(work: () => Promise<T>, what: string): Promise<T>;
  /** Publishes a reply in the device's dialect; `onSent` runs once the broker has it. Nothing after a crash. */
  send(mac: string, dialect: Dialect, message: ServerMessage, onSent?: () => void | Promise<void>): void;
  /** Runs `task` in the device's lane (after what is queued there): a chunk held for its route goes back this way. */
  runInLane(deviceId: string, task: () => void): void;
  /** Whether the device's lane has work running or queued (e.g. a metadata message still being handled). */
  laneBusy(deviceId: string): boolean;
  /** Counts, logs, appends to the history and records (rejected_messages) a refused message. */
  reject(topic: string, payload: Buffer, mac: string | null, code: PipelineRejectCode, reason: string): void;
}

/** A handler's refusal of its message with a specific code (the service's guard records it as such; any other
 *  exception is recorded as internal_error). */
export class MessageRefused extends Error {
  constructor(
    readonly code: PipelineRejectCode,
    message: string,
  ) {
    super(message);
  }
}
