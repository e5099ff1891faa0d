// `--shard k/n --run-id R` (simulate): one of n processes that simulate one fleet together (harness/run/shard.ts),
// and what such a process prints when its slice is done (`npm run check` judges the run).
import { commandFor } from '../run/command-line.ts';
import type { LiveRunResult } from '../run/live-run.ts';
import { parseShard, runDatabaseName, runIdProblem, seedOfRunId, type Shard } from '../run/shard.ts';
import { redactUrl } from '../world/redact.ts';

export const shardOptions = {
  shard: {
    type: 'string',
    describe:
      'k/n: simulate slice k of n of the fleet (--devices is the whole fleet), with the other shards against the same --broker-url and --database-url; needs --run-id; `npm run check -- --run-id R` judges the run',
  },
  'run-id': {
    type: 'string',
    describe:
      "with --shard: names the run (its database camfleet_run_<id> and its pipelines' shared-subscription group); the same on every shard",
  },
} as const;

/** Why these flags cannot make a shard, or undefined. */
export function shardProblem(a: {
  readonly shard?: string | undefined;
  readonly 'run-id'?: string | undefined;
  readonly mode?: string;
  readonly 'broker-url'?: string | undefined;
  readonly 'database-url'?: string | undefined;
  readonly seeds?: string | undefined;
  readonly replay?: string | undefined;
}): string | undefined {
  if (a.shard === undefined) return a['run-id'] === undefined ? undefined : '--run-id goes with --shard k/n';
  const parsed = parseShard(a.shard);
  if (typeof parsed === 'string') return parsed;
  if (a['run-id'] === undefined) return '--shard needs --run-id (the same on every shard)';
  const idProblem = runIdProblem(a['run-id']);
  if (idProblem !== undefined) return idProblem;
  if (a.mode === 'sim' || a.seeds !== undefined) return '--shard is for live runs: the shards meet at a real broker';
  if (a.replay !== undefined) return "--shard cannot replay a bundle (a bundle is one process's run)";
  if (!a['broker-url'])
    return '--shard needs a broker every shard reaches (--broker-url or MQTT_URL): the embedded one lives in one process';
  if (!a['database-url'])
    return '--shard needs a database server every shard reaches (--database-url or DATABASE_URL): the run stores its histories there';
  return undefined;
}

/** The shard of these (already checked) flags, or undefined. */
export function shardOf(a: {
  readonly shard?: string | undefined;
  readonly 'run-id'?: string | undefined;
}): Shard | undefined {
  if (a.shard === undefined || a['run-id'] === undefined) return undefined;
  const parsed = parseShard(a.shard);
  return typeof parsed === 'string' ? undefined : { ...parsed, runId: a['run-id'] };
}

/** A sharded run's seed: --seed when given (the same on every shard), else one drawn from the run id. */
export function shardSeed(shard: Shard, seed: number | undefined): number {
  return seed ?? seedOfRunId(shard.runId);
}

/** What a shard prints when its slice is done; its exit code (0 done, 3 stopped before its fleet finished). */
export function reportShard(result: LiveRunResult, databaseUrl: string | undefined, json: boolean): number {
  const shard = result.shard;
  if (shard === undefined) throw new Error('reportShard: not a shard');
  const done = !result.aborted;
  const check = `${commandFor('check')} --run-id ${shard.runId} --database-url ${databaseUrl === undefined ? '<url>' : redactUrl(databaseUrl)}`;
  if (json) {
    process.stdout.write(
      JSON.stringify(
        {
          shard: `${shard.index}/${shard.count}`,
          runId: shard.runId,
          devices: shard.devices,
          done,
          database: runDatabaseName(shard.runId),
          fleet: result.fleet,
          pipeline: result.pipeline,
          wallMs: result.wallMs,
          peakRssBytes: result.peakRssBytes,
          check,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    console.log(
      `shard ${shard.index}/${shard.count} of run ${shard.runId}: devices ${shard.devices.from + 1}–${shard.devices.to}, ` +
        `${result.fleet.devicesDone} done, ${result.fleet.captured} images captured, ${result.pipeline.chunksStored} chunks stored by its pipeline, ` +
        `${(result.wallMs / 1000).toFixed(2)} s; history stored in ${runDatabaseName(shard.runId)}`,
    );
    console.log(done ? `when every shard is done, check the run: ${check}` : 'stopped before its fleet finished');
  }
  return done ? 0 : 3;
}
