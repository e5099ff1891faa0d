// Judging a sharded run (`simulate --shard k/n --run-id R`) afterwards, from the run's database alone: every shard's
// stored history, merged, and the checker's own SQL. Shared by `npm run check` (harness/cli/check.ts), which prints
// it, and the library's check() (lib/check.ts), which returns it.
import pg from 'pg';
import type { InvariantVerdict } from '../checker/index.ts';
import { describeAddress } from '../db/database-error.ts';
import { withDatabase } from '../db/database-server.ts';
import { probeDatabase } from '../db/external-server.ts';
import { exitCodes, UsageError } from './exit-codes.ts';
import { judgeRun, plannedMigration } from './judge.ts';
import { readRunHistory } from './shard-history.ts';
import { runDatabaseName, runIdProblem } from './shard.ts';

export interface ShardedCheck {
  readonly runId: string;
  readonly verdict: 'pass' | 'fail' | 'unknown';
  /** Empty when no shard has stored its history yet. */
  readonly verdicts: readonly InvariantVerdict[];
  /** Shards the run was split into (undefined: none stored yet). */
  readonly shards: number | undefined;
  readonly storedShards: number;
  readonly devices: number;
  readonly events: number;
  /** Why the run cannot be judged whole (shards missing or stopped early), or undefined. */
  readonly incomplete: string | undefined;
  /** The run's database was dropped (after a verdict, unless kept). */
  readonly dropped: boolean;
  readonly databaseName: string;
  readonly exitCode: 0 | 1 | 3;
}

export async function checkShardedRun(
  serverUrl: string,
  runId: string,
  options: { readonly keepDb?: boolean } = {},
): Promise<ShardedCheck> {
  const idProblem = runIdProblem(runId);
  if (idProblem !== undefined) throw new UsageError(idProblem);
  const name = runDatabaseName(runId);
  const probe = await probeDatabase(serverUrl);
  if (!probe.ok) throw new UsageError(`cannot connect to Postgres at ${describeAddress(serverUrl)}: ${probe.reason}`);
  const pool = new pg.Pool({ connectionString: withDatabase(serverUrl, name), max: 2 });
  pool.on('error', () => {});
  let judged: Omit<ShardedCheck, 'dropped' | 'exitCode' | 'databaseName'>;
  try {
    const exists = await pool.query('SELECT 1').then(
      () => true,
      (error: unknown) => {
        if ((error as { code?: string }).code === '3D000') return false; // no such database
        throw error;
      },
    );
    if (!exists)
      throw Object.assign(
        new UsageError(`no run ${runId} on ${describeAddress(serverUrl)}: there is no database ${name}`),
        {
          hint: 'give the --run-id and the --database-url the shards were given',
        },
      );
    const stored = await readRunHistory(pool, runId).catch((error: unknown) => {
      if ((error as { code?: string }).code === '42P01') return undefined; // the tables: no shard got that far
      throw error;
    });
    if (stored === undefined || stored.shards === undefined) {
      judged = {
        runId,
        verdict: 'unknown',
        verdicts: [],
        shards: undefined,
        storedShards: 0,
        devices: 0,
        events: 0,
        incomplete: 'no shard has stored its history yet',
      };
    } else {
      const stopped = stored.stored.filter((s) => s.aborted).map((s) => s.shard);
      const why =
        stored.missing.length > 0
          ? `shard${stored.missing.length === 1 ? '' : 's'} ${stored.missing.join(', ')} of ${stored.shards} not stored yet`
          : stopped.length > 0
            ? `shard${stopped.length === 1 ? '' : 's'} ${stopped.join(', ')} stopped before its fleet finished`
            : undefined;
      // A fault the shards planned and never fired is unknown, never pass (as simulate says). A missing shard's
      // captures are not in the history: its transfers may be unfinished (I5) and its rows look like phantoms (I8).
      const result = await judgeRun(pool, stored.events, {
        migrationPlanned: plannedMigration(stored.events),
        incomplete: why === undefined ? undefined : { why, unknowable: ['I5', 'I8'] },
      });
      judged = {
        runId,
        verdict: result.verdict,
        verdicts: result.verdicts,
        shards: stored.shards,
        storedShards: stored.stored.length,
        devices: stored.stored.reduce((n, s) => n + s.devices, 0),
        events: stored.events.length,
        incomplete: why,
      };
    }
  } finally {
    await pool.end().catch(() => {});
  }
  let dropped = false;
  if (judged.verdict !== 'unknown' && options.keepDb !== true) {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      dropped = true;
    } finally {
      await admin.end().catch(() => {});
    }
  }
  const exitCode =
    judged.verdict === 'pass' ? exitCodes.pass : judged.verdict === 'fail' ? exitCodes.violated : exitCodes.unknown;
  return { ...judged, dropped, databaseName: name, exitCode };
}
