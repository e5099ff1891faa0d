// The pipeline's options, their defaults, and the profile switch (ARCHITECTURE.md §5).
import { randomBytes } from 'node:crypto';
import type { History } from '../history/history.ts';
import { defaultNextWakeMs } from './core/schedule.ts';

/**
 * `fixed` is the reference behaviour. The legacy profiles of ARCHITECTURE.md §5 (legacy-insert,
 * legacy-two-writers, legacy-memory-chunks, legacy-reset-count, legacy-ttl) join this union later; each is a
 * different decision core or store policy behind the same adapters (see profile.ts).
 */
export type PipelineProfile = 'fixed';

export interface PipelineOptions {
  /** mqtt://127.0.0.1:port */
  brokerUrl: string;
  /** A database already migrated to stage 'pipeline' (schema steps base..pipeline). */
  databaseUrl: string;
  /** Default 'fixed'. */
  profile?: PipelineProfile;
  /** When given, pipeline_* events are appended to it (harness/history/events.ts). */
  history?: History;
  /** Default 'camfleet-pipeline-<random>'. */
  clientId?: string;
  /** Wire base of chunk ids and missing_chunks ids, passed to the codec. Default 0. */
  chunkIdBase?: 0 | 1;
  /** No chunk for an incomplete transfer for this long → publish missing_chunks. Default 1500. */
  missingChunksIdleMs?: number;
  /** missing_chunks requests per transfer before the pipeline stops asking. Default 5. */
  missingChunksRequestsMax?: number;
  /** How long chunks wait in the write batch at most. Default 15. */
  flushIntervalMs?: number;
  /** ACK_OK next_wake_time: default now + 12 h, staggered by a hash of the MAC over ±1 h. */
  nextWakeMs?: (mac: string, nowMs: number) => number;
  /** Default Date.now. */
  now?: () => number;
  /** Default: silent. */
  log?: (line: string) => void;
  /** pg pool size. Default 8. */
  poolMax?: number;
  /** Topic filters to subscribe to (QoS 1). Default serverSubscriptions(): both dialects' /status and /data.
   *  Wider filters (e.g. `ESP32CAM/#`) make the pipeline record messages on unknown topics too; its own replies on
   *  /cmd and /ack are then ignored. */
  subscriptions?: readonly string[];
}

export interface ResolvedOptions {
  readonly brokerUrl: string;
  readonly databaseUrl: string;
  readonly profile: PipelineProfile;
  readonly history: History | undefined;
  readonly clientId: string;
  readonly chunkIdBase: 0 | 1;
  readonly missingChunksIdleMs: number;
  readonly missingChunksRequestsMax: number;
  readonly flushIntervalMs: number;
  readonly nextWakeMs: (mac: string, nowMs: number) => number;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly poolMax: number;
  readonly subscriptions: readonly string[] | undefined;
}

export const PIPELINE_DEFAULTS = {
  missingChunksIdleMs: 1500,
  missingChunksRequestsMax: 5,
  flushIntervalMs: 15,
  poolMax: 8,
} as const;

export class PipelineUsageError extends Error {
  override readonly name = 'PipelineUsageError';
  readonly exitCode = 2;
}

export function resolveOptions(o: PipelineOptions): ResolvedOptions {
  const profile = o.profile ?? 'fixed';
  if (profile !== 'fixed') throw new PipelineUsageError(`unknown pipeline profile ${JSON.stringify(profile)}`);
  const positive = (name: string, v: number | undefined, d: number): number => {
    if (v === undefined) return d;
    if (!Number.isFinite(v) || v <= 0) throw new PipelineUsageError(`${name} must be a positive number, got ${v}`);
    return v;
  };
  return {
    brokerUrl: o.brokerUrl,
    databaseUrl: o.databaseUrl,
    profile,
    history: o.history,
    clientId: o.clientId ?? `camfleet-pipeline-${randomBytes(4).toString('hex')}`,
    chunkIdBase: o.chunkIdBase ?? 0,
    missingChunksIdleMs: positive('missingChunksIdleMs', o.missingChunksIdleMs, PIPELINE_DEFAULTS.missingChunksIdleMs),
    missingChunksRequestsMax:
      o.missingChunksRequestsMax === undefined
        ? PIPELINE_DEFAULTS.missingChunksRequestsMax
        : Math.max(0, o.missingChunksRequestsMax),
    flushIntervalMs: positive('flushIntervalMs', o.flushIntervalMs, PIPELINE_DEFAULTS.flushIntervalMs),
    nextWakeMs: o.nextWakeMs ?? defaultNextWakeMs,
    now: o.now ?? Date.now,
    log: o.log ?? (() => {}),
    poolMax: Math.max(3, Math.floor(positive('poolMax', o.poolMax, PIPELINE_DEFAULTS.poolMax))),
    subscriptions: o.subscriptions,
  };
}
