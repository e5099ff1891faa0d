// `check({ runId })`: `camfleet check` from code — the invariants over a run spread over several processes
// (`camfleet simulate --shard k/n --run-id R`), from the run's database alone. The database is dropped after a
// verdict unless `keepDb`.
import { checkShardedRun, type ShardedCheck } from '../harness/run/check-shards.ts';
import { UsageError } from '../harness/run/exit-codes.ts';
import { formatVerdicts } from '../harness/checker/index.ts';

export interface CheckOptions {
  /** The run id the shards were given. */
  readonly runId: string;
  /** The Postgres server the shards used (default `$DATABASE_URL`). */
  readonly databaseUrl?: string | undefined;
  readonly keepDb?: boolean | undefined;
}

export interface CheckResult extends ShardedCheck {
  /** The verdict table as the command prints it. */
  readonly table: string;
}

export async function check(options: CheckOptions): Promise<CheckResult> {
  const serverUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  if (serverUrl === undefined || serverUrl === '')
    throw new UsageError('check: databaseUrl (or DATABASE_URL) is required: the server the shards used');
  const checked = await checkShardedRun(serverUrl, options.runId, { keepDb: options.keepDb ?? false });
  return { ...checked, table: formatVerdicts(checked.verdicts) };
}
