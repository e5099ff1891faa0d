// `npm run check -- --run-id R --database-url URL`: verifies a sharded run (`simulate --shard k/n --run-id R`)
// afterwards, from the run's database alone: every shard's stored history, merged, and the checker's own SQL, the
// same invariants simulate proves. Exit 0 pass, 1 an invariant violated, 2 usage or environment error, 3 unknown
// (a shard has not stored its history yet, or a shard stopped before its fleet finished).
import './stdio.ts';
import { commandFor } from '../run/command-line.ts';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatVerdicts } from '../checker/index.ts';
import { describeFailure } from '../run/exit-codes.ts';
import { runIdProblem } from '../run/shard.ts';
import { checkShardedRun } from '../run/check-shards.ts';
import { standardCli } from './exit.ts';
import { checkWorldUrls } from './world-options.ts';

const argv = await standardCli(
  yargs(hideBin(process.argv))
    .scriptName(commandFor('check'))
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

try {
  const checked = await checkShardedRun(argv['database-url'] ?? '', argv['run-id'], { keepDb: argv['keep-db'] });
  const { runId } = checked;
  if (checked.shards === undefined) console.log(`run ${runId}: no shard has stored its history yet`);
  else {
    console.error(
      `run ${runId}: ${checked.storedShards} of ${checked.shards} shards stored (${checked.devices} devices, ${checked.events} history events)`,
    );
    if (checked.incomplete !== undefined) console.error(`run ${runId}: ${checked.incomplete}`);
    if (argv.json)
      process.stdout.write(
        JSON.stringify(
          { runId, shards: checked.shards, verdict: checked.verdict, invariants: checked.verdicts },
          null,
          2,
        ) + '\n',
      );
    else console.log(`${formatVerdicts(checked.verdicts)}\n\nverdict: ${checked.verdict.toUpperCase()}`);
  }
  console.error(`database ${checked.databaseName} ${checked.dropped ? 'dropped' : 'kept'}`);
  process.exit(checked.exitCode);
} catch (error) {
  const failure = describeFailure(error);
  console.error(failure.message);
  process.exit(failure.exitCode);
}
