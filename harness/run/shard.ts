// Shards (issue 10, ARCHITECTURE.md §7): n `simulate` processes, on one machine or many, each simulate their slice
// of ONE fleet against the same broker and database. Every shard draws the whole fleet's device identities from
// the same seed and takes its slice, so MACs (and so image names, topics and client ids) never collide and each
// device behaves exactly as in an unsharded run of that seed. Each shard's pipeline joins one shared-subscription
// group named from the run id. The run's database is named from the run id too: the first shard creates and
// migrates it, the others find it; each shard stores its history there (shard-history.ts) and `npm run check`
// verifies the whole run from that database alone.
import { createHash } from 'node:crypto';

export interface Shard {
  /** 1-based: shard k of n (as `--shard k/n`; a Kubernetes Indexed Job's JOB_COMPLETION_INDEX is k − 1). */
  readonly index: number;
  readonly count: number;
  readonly runId: string;
}

export const SHARDS_MAX = 1000;
const RUN_ID = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** `k/n` → { index: k, count: n }, or a usage message. */
export function parseShard(text: string): { index: number; count: number } | string {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || !(count >= 1 && count <= SHARDS_MAX) || !(index >= 1 && index <= count))
    return `--shard must be k/n with 1 ≤ k ≤ n ≤ ${SHARDS_MAX} (e.g. 2/3), got ${text}`;
  return { index, count };
}

/** A usage message when `runId` cannot name a database and a group, else undefined. */
export function runIdProblem(runId: string): string | undefined {
  return RUN_ID.test(runId)
    ? undefined
    : `--run-id must be 1–40 of a-z, 0-9, _ and -, starting with a letter or digit, got ${JSON.stringify(runId)}`;
}

/** The devices (0-based indexes into the fleet's MACs) shard `index` of `count` simulates: contiguous, sizes
 *  differing by one at most, together every device once. */
export function shardSlice(devices: number, shard: Pick<Shard, 'index' | 'count'>): { from: number; to: number } {
  const from = Math.floor(((shard.index - 1) * devices) / shard.count);
  const to = Math.floor((shard.index * devices) / shard.count);
  return { from, to };
}

/** The run's database on the shared server. */
export function runDatabaseName(runId: string): string {
  return `camfleet_run_${runId.replace(/-/g, '_')}`;
}

/** The shared-subscription group every shard's pipeline joins. */
export function runGroup(runId: string): string {
  return `camfleet-${runId}`;
}

/** The seed of a sharded run without --seed: every shard must draw the same fleet, so it comes from the run id. */
export function seedOfRunId(runId: string): number {
  return createHash('sha256').update(`camfleet-run:${runId}`).digest().readUInt32BE(0) & 0x7fffffff;
}
