// The pipeline's options, their defaults, and the profile switch (ARCHITECTURE.md §5).
import { REJECTION_LIMITS_DEFAULT, type RejectionLimits } from './core/rejection-limit.ts';
import { randomBytes } from 'node:crypto';
import type { History } from '../history/history.ts';
import type { Clock } from '../world/clock.ts';
import type { Database } from '../world/sql.ts';
import { realClock } from '../world/live/real-clock.ts';
import { defaultNextWakeMs } from './core/schedule.ts';
import type { PipelineLinkFactory } from './mqtt-link.ts';

import { isPipelineProfile, pipelineProfiles, type PipelineProfile } from './core/profile.ts';

// The profiles and what each one changes are the core's data (core/profile.ts); named here too, where the CLI and
// the run options look for them.
export { isPipelineProfile, pipelineProfiles, type PipelineProfile } from './core/profile.ts';

export interface PipelineOptions {
  /** mqtt://127.0.0.1:port. The default link connects to it; log lines name it (redacted). With `link`, it is only
   *  named (a world's brokerLabel, e.g. 'sim://router'). */
  brokerUrl: string;
  /** Where the MQTT link comes from: a world's pipelineLink (ARCHITECTURE.md §8). Default: mqtt.js over TCP to
   *  `brokerUrl` (connectMqttLink), as `npm run pipeline` uses. */
  link?: PipelineLinkFactory;
  /** A database already migrated to stage 'pipeline' (schema steps base..pipeline). */
  databaseUrl: string;
  /** The Database to use instead of a pg pool on `databaseUrl` (which is then only named): a world's database,
   *  e.g. the sim world's gated one. The instance owns it as it owns its pool: stop() ends it, crash() aborts it
   *  — so give each instance its own (a lease, world/sim/database-lease.ts). Default: createPgDatabase. */
  database?: Database;
  /** Default 'fixed'. */
  profile?: PipelineProfile;
  /** When given, pipeline_* events are appended to it (harness/history/events.ts). */
  history?: History;
  /** Names this instance in its MQTT client id, its Postgres application_name and its log lines, so two instances
   *  can run at once (the "two pipeline instances" fault). Default: none. */
  instanceTag?: string;
  /** Default 'camfleet-pipeline-<instanceTag->-<random>'. */
  clientId?: string;
  /** Refusals stored one by one per device per minute, and logged per minute (core/rejection-limit.ts); the rest
   *  are counted. Default REJECTION_LIMITS_DEFAULT (20 and 20). */
  rejectionLimits?: RejectionLimits;
  /** A CA (PEM) to trust for an mqtts:// broker, besides the system's (`npm run pipeline --mqtt-ca-file`). */
  brokerCa?: string | undefined;
  /** legacy-ttl only: stored chunks of an unfinished transfer expire this long after its last chunk (the original's
   *  30-minute edge_chunk_buffer, PROTOCOL.md §6–§7.6). A run passes it scaled to its compressed time.
   *  Default 1,800,000 (30 min). */
  chunkTtlMs?: number;
  /** legacy-ttl only: what the chunks' age is measured against. 'database' (default): Postgres' now(), the clock
   *  that stamped them. 'clock': this pipeline's clock, for a database whose chunk stamps are that clock's too (a sim
   *  run's, world/sim/sim-now.ts). */
  chunkAgeNow?: 'database' | 'clock';
  /** legacy-two-writers only: the window between each writer's SELECT and its INSERT (the original's 5 s timeout
   *  widened it). Default 50. */
  writerRaceWindowMs?: number;
  /** Wire base of chunk ids and missing_chunks ids, passed to the codec. Default 0. */
  chunkIdBase?: 0 | 1;
  /** The opt-in protocol option "ACK names the capture": every ACK_OK also carries the acknowledged capture's
   *  timestamp (simulator/protocol/messages.ts AckOk.timestamp). Default false: what v3.5.0 devices speak. */
  ackNamesCapture?: boolean;
  /** No chunk for an incomplete transfer for this long → publish missing_chunks. Default 1500. */
  missingChunksIdleMs?: number;
  /** missing_chunks requests per transfer before the pipeline stops asking. Default 5. */
  missingChunksRequestsMax?: number;
  /** How long chunks wait in the write batch at most. Default 15. */
  flushIntervalMs?: number;
  /** ACK_OK next_wake_time: default now + 12 h, staggered by a hash of the MAC over ±1 h. */
  nextWakeMs?: (mac: string, nowMs: number) => number;
  /** Every reading of the time (transfer idleness, capture times, next wake) and every timer of the pipeline (flush,
   *  sweep, expiry, retries, backpressure, the legacy race gate) use it. Default realClock. */
  clock?: Clock;
  /** Default: silent. */
  log?: (line: string) => void;
  /** pg pool size. Default 8. */
  poolMax?: number;
  /** Topic filters to subscribe to (QoS 1). Default serverSubscriptions(): both dialects' /status and /data.
   *  Wider filters (e.g. `ESP32CAM/#`) make the pipeline record messages on unknown topics too; its own replies on
   *  /cmd and /ack are then ignored. */
  subscriptions?: readonly string[];
  /** Join an MQTT shared subscription (`$share/<group>/<filter>`, MQTT 5 and Mosquitto ≥ 1.6, EMQX, HiveMQ; not
   *  aedes) instead of subscribing alone: the broker gives each message to ONE member of the group, so several
   *  instances (workers, shards) split a fleet's load. A device's metadata and its chunks may then reach different
   *  members: a chunk whose route this instance has not seen waits up to `routeWaitMs` for another member's
   *  metadata to commit it (the durable chunk store makes the rest safe; completion is single-flight per image in
   *  the database). Default: none. */
  sharedGroup?: string;
  /** With `sharedGroup`: this many MQTT connections join the group, all feeding this one instance. A broker bounds
   *  what it keeps in flight and queued per connection (Mosquitto by default 20 and 1,000 messages, dropping the
   *  rest): more connections take a burst that one would lose. Default 1. */
  consumers?: number;
  /** With `sharedGroup`: how long a chunk with no known route waits for its metadata's commit before it is
   *  refused as chunk_before_metadata. Default 5000. */
  routeWaitMs?: number;
  /** TEST ONLY — a deliberately broken ordering: publish ACK_OK BEFORE committing the image, and commit only once
   *  this resolves. The ACK-ordering test (pipeline-flow.test.ts) uses it to show it catches such a pipeline. */
  ackBeforeCommitForTest?: () => Promise<void>;
  /** Awaited after an image's completion commit and before its ACK_OK is published: the point where a crash
   *  leaves an ACK owed. The nemesis' crash-before-ack fault point crashes the pipeline here
   *  (nemesis/crash-points.ts; pipeline-faults.test.ts too). */
  afterCompletionCommit?: (committed: CommittedImage) => Promise<void>;
  /** Called as a chunk batch has committed, with each image's progress then: the run's `N-receiving` fault
   *  triggers count rows with durable progress at that moment instead of sampling the database (fault-wiring.ts). */
  afterChunkFlush?: (images: readonly FlushedImage[]) => void;
  /** legacy-two-writers with its edge function outside this process (a run's `--forward-webhook` to the user's
   *  handler): no in-process edge writer; the service's race gate meets the forwarder instead
   *  (harness/forwarder/rendezvous.ts). Ignored by every other profile. */
  externalEdge?: ExternalEdge;
}

/** An image a chunk batch wrote to, as it stands after the batch's commit. */
export interface FlushedImage {
  readonly mac: string;
  /** The device's (wire) image name. */
  readonly imageName: string;
  readonly receivedChunks: number;
  /** The row's status after the batch (`receiving` until the completion commit). */
  readonly status: string | null;
}

/** The edge function of legacy-two-writers when it runs outside (PipelineOptions.externalEdge), per metadata
 *  message (its topic and payload text). */
export interface ExternalEdge {
  /** The service has read the rows for this message (the edge function may now be called). */
  serviceRead(topic: string, payload: string): void;
  /** Resolves once the edge function answered this message (true), or after a bounded wait (false). */
  handlerAnswered(topic: string, payload: string): Promise<boolean>;
}

/** The image a completion commit made complete, as the device named it. */
export interface CommittedImage {
  readonly mac: string;
  /** The device's (wire) image name. */
  readonly imageName: string;
}

export interface ResolvedOptions {
  readonly brokerUrl: string;
  readonly link: PipelineLinkFactory | undefined;
  readonly databaseUrl: string;
  readonly database: Database | undefined;
  readonly profile: PipelineProfile;
  readonly history: History | undefined;
  readonly instanceTag: string | undefined;
  readonly clientId: string;
  readonly chunkTtlMs: number;
  readonly chunkAgeNow: 'database' | 'clock';
  readonly rejectionLimits: RejectionLimits;
  readonly brokerCa: string | undefined;
  readonly writerRaceWindowMs: number;
  readonly chunkIdBase: 0 | 1;
  readonly ackNamesCapture: boolean;
  readonly missingChunksIdleMs: number;
  readonly missingChunksRequestsMax: number;
  readonly flushIntervalMs: number;
  readonly nextWakeMs: (mac: string, nowMs: number) => number;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly poolMax: number;
  readonly subscriptions: readonly string[] | undefined;
  readonly sharedGroup: string | undefined;
  readonly consumers: number;
  /** 0 without a shared group: a missing route is looked up once. */
  readonly routeWaitMs: number;
  readonly ackBeforeCommitForTest: (() => Promise<void>) | undefined;
  readonly afterCompletionCommit: ((committed: CommittedImage) => Promise<void>) | undefined;
  readonly afterChunkFlush: ((images: readonly FlushedImage[]) => void) | undefined;
  readonly externalEdge: ExternalEdge | undefined;
}

export const PIPELINE_DEFAULTS = {
  missingChunksIdleMs: 1500,
  missingChunksRequestsMax: 5,
  flushIntervalMs: 15,
  poolMax: 8,
  chunkTtlMs: 30 * 60 * 1000,
  writerRaceWindowMs: 50,
  routeWaitMs: 5000,
} as const;

export class PipelineUsageError extends Error {
  override readonly name = 'PipelineUsageError';
  readonly exitCode = 2;
}

export function resolveOptions(o: PipelineOptions): ResolvedOptions {
  const profile: string = o.profile ?? 'fixed';
  if (!isPipelineProfile(profile)) {
    throw new PipelineUsageError(
      `unknown pipeline profile ${JSON.stringify(profile)} (known: ${pipelineProfiles.join(', ')})`,
    );
  }
  const tag = o.instanceTag;
  if (tag !== undefined && !/^[A-Za-z0-9_.-]{1,32}$/.test(tag)) {
    throw new PipelineUsageError(`instanceTag must be 1–32 of [A-Za-z0-9_.-], got ${JSON.stringify(tag)}`);
  }
  const positive = (name: string, v: number | undefined, d: number): number => {
    if (v === undefined) return d;
    if (!Number.isFinite(v) || v <= 0) throw new PipelineUsageError(`${name} must be a positive number, got ${v}`);
    return v;
  };
  return {
    brokerUrl: o.brokerUrl,
    link: o.link,
    databaseUrl: o.databaseUrl,
    database: o.database,
    profile,
    history: o.history,
    instanceTag: tag,
    clientId: o.clientId ?? `camfleet-pipeline-${tag === undefined ? '' : `${tag}-`}${randomBytes(4).toString('hex')}`,
    chunkTtlMs: positive('chunkTtlMs', o.chunkTtlMs, PIPELINE_DEFAULTS.chunkTtlMs),
    chunkAgeNow: o.chunkAgeNow ?? 'database',
    brokerCa: o.brokerCa,
    rejectionLimits: {
      rowsPerDeviceMinute: Math.floor(
        positive(
          'rejectionLimits.rowsPerDeviceMinute',
          o.rejectionLimits?.rowsPerDeviceMinute,
          REJECTION_LIMITS_DEFAULT.rowsPerDeviceMinute,
        ),
      ),
      logLinesPerMinute: Math.floor(
        positive(
          'rejectionLimits.logLinesPerMinute',
          o.rejectionLimits?.logLinesPerMinute,
          REJECTION_LIMITS_DEFAULT.logLinesPerMinute,
        ),
      ),
    },
    writerRaceWindowMs:
      o.writerRaceWindowMs === undefined ? PIPELINE_DEFAULTS.writerRaceWindowMs : Math.max(0, o.writerRaceWindowMs),
    chunkIdBase: o.chunkIdBase ?? 0,
    ackNamesCapture: o.ackNamesCapture ?? false,
    missingChunksIdleMs: positive('missingChunksIdleMs', o.missingChunksIdleMs, PIPELINE_DEFAULTS.missingChunksIdleMs),
    missingChunksRequestsMax:
      o.missingChunksRequestsMax === undefined
        ? PIPELINE_DEFAULTS.missingChunksRequestsMax
        : Math.max(0, o.missingChunksRequestsMax),
    flushIntervalMs: positive('flushIntervalMs', o.flushIntervalMs, PIPELINE_DEFAULTS.flushIntervalMs),
    nextWakeMs: o.nextWakeMs ?? defaultNextWakeMs,
    clock: o.clock ?? realClock,
    log: tagged(o.log ?? (() => {}), tag),
    poolMax: Math.max(3, Math.floor(positive('poolMax', o.poolMax, PIPELINE_DEFAULTS.poolMax))),
    subscriptions: o.subscriptions,
    sharedGroup: checkedGroup(o.sharedGroup),
    consumers: checkedConsumers(o.consumers, o.sharedGroup),
    routeWaitMs:
      o.sharedGroup === undefined ? 0 : positive('routeWaitMs', o.routeWaitMs, PIPELINE_DEFAULTS.routeWaitMs),
    ackBeforeCommitForTest: o.ackBeforeCommitForTest,
    afterCompletionCommit: o.afterCompletionCommit,
    afterChunkFlush: o.afterChunkFlush,
    externalEdge: o.externalEdge,
  };
}

/** A shared subscription's group is one topic level: no `/`, `+`, `#` (MQTT 5 §4.8.2). */
function checkedGroup(group: string | undefined): string | undefined {
  if (group === undefined) return undefined;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(group)) {
    throw new PipelineUsageError(`sharedGroup must be 1–64 of [A-Za-z0-9_.-], got ${JSON.stringify(group)}`);
  }
  return group;
}

function checkedConsumers(consumers: number | undefined, group: string | undefined): number {
  if (consumers === undefined) return 1;
  if (!Number.isInteger(consumers) || consumers < 1 || consumers > CONSUMERS_MAX) {
    throw new PipelineUsageError(`consumers must be an integer in 1..${CONSUMERS_MAX}, got ${consumers}`);
  }
  // Without a group every connection would get every message.
  if (consumers > 1 && group === undefined) throw new PipelineUsageError('consumers > 1 needs a sharedGroup');
  return consumers;
}

/** Connections of one instance in its shared group, at most. */
export const CONSUMERS_MAX = 64;

/** The filters a member of `group` subscribes to: `$share/<group>/<filter>` each. */
export function sharedFilters(filters: readonly string[], group: string | undefined): string[] {
  return group === undefined ? [...filters] : filters.map((f) => `$share/${group}/${f}`);
}

/** Log lines of a tagged instance say which one: `pipeline[b]: …`. */
function tagged(log: (line: string) => void, tag: string | undefined): (line: string) => void {
  if (tag === undefined) return log;
  return (line) => log(line.startsWith('pipeline:') ? `pipeline[${tag}]:${line.slice('pipeline:'.length)}` : line);
}
