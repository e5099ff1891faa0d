// `npm run check -- --run-id R --database-url URL`: verifies a sharded run (`simulate --shard k/n --run-id R`)
// afterwards, from the run's database alone: every shard's stored history, merged, and the checker's own SQL, the
// same invariants simulate proves. Exit 0 pass, 1 an invariant violated, 2 usage or environment error, 3 unknown
// (a shard has not stored its history yet, or a shard stopped before its fleet finished).
import './stdio.ts';
import pg from 'pg';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatVerdicts } from '../checker/index.ts';
import { probeDatabase } from '../db/external-server.ts';
import { describeAddress } from '../db/database-error.ts';
import { withDatabase } from '../db/database-server.ts';
import { describeFailure, exitCodes } from '../run/exit-codes.ts';
import { judgeRun, plannedMigration } from '../run/judge.ts';
import { readRunHistory } from '../run/shard-history.ts';
import { runDatabaseName, runIdProblem } from '../run/shard.ts';
import { standardCli } from './exit.ts';
import { checkWorldUrls } from './world-options.ts';

const argv = await standardCli(
  yargs(hideBin(process.argv))
    .scriptName('npm run check --')
    .usage(
      '$0 --run-id R [--database-url URL]\n\nChecks a run that `npm run simulate -- --shard k/n --run-id R` spread over several processes: reads\n' +
        "every shard's history from the run's database (camfleet_run_<R>) and proves the invariants over the whole\n" +
        'fleet. The database is dropped after a verdict (pass or fail) unless --keep-db.\n\n' +
        'Exit codes: 0 all invariants pass, 1 an invariant is violated, 2 usage or environment error, 3 unknown (a shard\n' +
        'missing or stopped early).',
    )
    .options({
      'run-id': { type: 'string', demandOption: true, describe: 'the run id the shards were given' },
      'database-url': {
        type: 'string',
        default: process.env.DATABASE_URL,
        defaultDescription: '$DATABASE_URL',
        describe: "the Postgres server the shards used (the run's database is found there by its name)",
      },
      'keep-db': { type: 'boolean', default: false, describe: "keep the run's database after the verdict" },
      json: { type: 'boolean', default: false, describe: 'print the verdicts as JSON on stdout' },
    })
    .check((a) => {
      const problem = runIdProblem(a['run-id']);
      if (problem !== undefined) throw new Error(problem);
      if (!a['database-url'])
        throw new Error('--database-url (or DATABASE_URL) is required: the server the shards used');
      checkWorldUrls(a);
      return true;
    }),
).parseAsync();

const runId = argv['run-id'];
const serverUrl = argv['database-url'] ?? '';
const name = runDatabaseName(runId);

try {
  const probe = await probeDatabase(serverUrl);
  if (!probe.ok)
    throw Object.assign(new Error(`cannot connect to Postgres at ${describeAddress(serverUrl)}: ${probe.reason}`), {
      exitCode: exitCodes.usage,
    });
  const pool = new pg.Pool({ connectionString: withDatabase(serverUrl, name), max: 2 });
  pool.on('error', () => {});
  let verdict: 'pass' | 'fail' | 'unknown';
  try {
    const exists = await pool.query('SELECT 1').then(
      () => true,
      (error: unknown) => {
        if ((error as { code?: string }).code === '3D000') return false; // no such database
        throw error;
      },
    );
    if (!exists)
      throw Object.assign(new Error(`no run ${runId} on ${describeAddress(serverUrl)}: there is no database ${name}`), {
        exitCode: exitCodes.usage,
        hint: 'give the --run-id and the --database-url the shards were given',
      });
    const stored = await readRunHistory(pool, runId).catch((error: unknown) => {
      if ((error as { code?: string }).code === '42P01') return undefined; // the tables: no shard got that far
      throw error;
    });
    if (stored === undefined || stored.shards === undefined) {
      console.log(`run ${runId}: no shard has stored its history yet`);
      verdict = 'unknown';
    } else {
      const devices = stored.stored.reduce((n, s) => n + s.devices, 0);
      const stopped = stored.stored.filter((s) => s.aborted).map((s) => s.shard);
      console.error(
        `run ${runId}: ${stored.stored.length} of ${stored.shards} shards stored (${devices} devices, ${stored.events.length} history events)`,
      );
      const why =
        stored.missing.length > 0
          ? `shard${stored.missing.length === 1 ? '' : 's'} ${stored.missing.join(', ')} of ${stored.shards} not stored yet`
          : stopped.length > 0
            ? `shard${stopped.length === 1 ? '' : 's'} ${stopped.join(', ')} stopped before its fleet finished`
            : undefined;
      if (why !== undefined) console.error(`run ${runId}: ${why}`);
      // A fault the shards planned and never fired is unknown, never pass (as simulate says). A missing shard's
      // captures are not in the history: its transfers may be unfinished (I5) and its rows look like phantoms (I8).
      const judged = await judgeRun(pool, stored.events, {
        migrationPlanned: plannedMigration(stored.events),
        incomplete: why === undefined ? undefined : { why, unknowable: ['I5', 'I8'] },
      });
      const verdicts = judged.verdicts;
      verdict = judged.verdict;
      if (argv.json)
        process.stdout.write(
          JSON.stringify({ runId, shards: stored.shards, verdict, invariants: verdicts }, null, 2) + '\n',
        );
      else console.log(`${formatVerdicts(verdicts)}\n\nverdict: ${verdict.toUpperCase()}`);
    }
  } finally {
    await pool.end().catch(() => {});
  }
  if (verdict !== 'unknown' && !argv['keep-db']) {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end().catch(() => {});
    }
    console.error(`database ${name} dropped`);
  } else console.error(`database ${name} kept`);
  process.exit(verdict === 'pass' ? exitCodes.pass : verdict === 'fail' ? exitCodes.violated : exitCodes.unknown);
} catch (error) {
  const failure = describeFailure(error);
  console.error(failure.message);
  process.exit(failure.exitCode);
}
