// The `explore` command line: its flags, their checks and the exploration they ask for. Shared by the command
// (harness/cli/explore.ts) and the library's explore() (lib/explore.ts), which takes the same options camelCased.
import { commandFor } from '../run/command-line.ts';
import type { Argv } from 'yargs';
import { faultMixes, type FaultMix } from '../nemesis/fault-plan.ts';
import { pipelineProfiles, type PipelineProfile } from '../pipeline/options.ts';
import { firmwareProfileDescriptions, firmwareProfiles, type FirmwareProfile } from '../../simulator/firmware/index.ts';
import { SHRINK_RUNS_MAX_DEFAULT, type ExploreSettings } from '../explore/explore.ts';
import { exploreStageDefault } from '../explore/explore-stage.ts';
import { FOUND_DIR } from '../explore/found-scenario.ts';
import { numberOption } from './number-option.ts';
import { checkWritableFile } from './path-options.ts';
import { checkWorldUrls, worldOptions } from './world-options.ts';
import { SWEEP_JOBS_DEFAULT, SWEEP_JOBS_MAX } from '../run/sweep.ts';

/** Cases are drawn up front (fc.sample): more would be a typo, not one exploration. */
const RUNS_MAX = 100_000;

/** The explore flags and their checks on `y`; `args` are the arguments it will parse. */
export function exploreArgs(y: Argv, args: readonly string[]) {
  return y
    .scriptName(commandFor('explore'))
    .usage(
      '$0 [options]\n\nExplores in sim mode: runs generated fleets (1–8 devices, 1–3 images of 20–120 KB, both dialects), fault\n' +
        'plans (rates, restarts and faults at logical points) and schedules (the sim scheduler’s seed) against the\n' +
        'pipeline, and checks every invariant after each run. On a failing run it shrinks it to the smallest fleet,\n' +
        'fault plan and schedule that still fail, and writes that as a scenario file that fails the same way every time.\n\n' +
        'Exit codes: 0 no counterexample, 1 a counterexample (scenario written), 2 usage or environment error,\n' +
        '3 the counterexample did not fail again when re-run (reported as a determinism bug).',
    )
    .options({
      pipeline: {
        type: 'string',
        choices: pipelineProfiles,
        default: 'fixed',
        describe: 'pipeline profile under test (a legacy one shows the original bug it models)',
      },
      firmware: {
        type: 'string',
        choices: firmwareProfiles,
        default: 'fw350',
        describe: `the devices' firmware: ${firmwareProfiles.map((p) => `${p} — ${firmwareProfileDescriptions[p]}`).join('; ')}`,
      },
      'ack-names-capture': {
        type: 'boolean',
        default: false,
        describe: 'opt-in protocol option, not in v3.5.0: ACK_OK also names the capture (its timestamp), on both sides',
      },
      stage: {
        type: 'string',
        choices: ['base', 'cleanup', 'resume'] as const,
        defaultDescription:
          'base for legacy-insert and legacy-two-writers (their bug needs no unique key), else resume',
        describe: 'schema stage the runs start at',
      },
      faults: {
        type: 'string',
        choices: Object.keys(faultMixes) as FaultMix[],
        default: 'default',
        describe:
          'what the fault plans draw from: none (fleets and schedules only), default (reboots, double sends, counter resets, Wi-Fi outages, restarts, faults at points), chaos (everything)',
      },
      runs: numberOption('runs', { default: 100, describe: 'cases to try (the shrink’s runs come on top)' }),
      seed: numberOption('seed', {
        defaultDescription: 'random, printed',
        describe: 'fast-check seed: the same seed tries the same cases',
      }),
      'shrink-runs': numberOption('shrink-runs', {
        default: SHRINK_RUNS_MAX_DEFAULT,
        describe: 'runs the shrink may take at most',
      }),
      out: { type: 'string', describe: `scenario file for a counterexample (default ${FOUND_DIR}/<name>.json)` },
      quiet: { type: 'boolean', default: false, describe: 'no progress bar or per-step lines' },
      jobs: numberOption('jobs', {
        default: SWEEP_JOBS_DEFAULT,
        describe: `cases run at once while searching, each on a database of its own (1–${SWEEP_JOBS_MAX}); the result does not depend on it`,
      }),
      'database-url': worldOptions['database-url'],
    })
    .check((a) => {
      if (!Number.isSafeInteger(a.runs) || a.runs < 1 || a.runs > RUNS_MAX)
        throw new Error(`--runs must be a whole number from 1 to ${RUNS_MAX}, got ${a.runs}`);
      if (a.seed !== undefined && (!Number.isSafeInteger(a.seed) || a.seed < 0 || a.seed > 0x7fffffff))
        throw new Error(`--seed must be a whole number from 0 to ${0x7fffffff}, got ${a.seed}`);
      if (!Number.isSafeInteger(a.jobs) || a.jobs < 1 || a.jobs > SWEEP_JOBS_MAX)
        throw new Error(`--jobs must be a whole number from 1 to ${SWEEP_JOBS_MAX}, got ${a.jobs}`);
      if (!Number.isSafeInteger(a['shrink-runs']) || a['shrink-runs'] < 0)
        throw new Error(`--shrink-runs must be a whole number ≥ 0, got ${a['shrink-runs']}`);
      if (a.out !== undefined) {
        if (!a.out.endsWith('.json')) throw new Error(`--out ${a.out}: a scenario file ends in .json`);
        checkWritableFile('out', a.out);
      }
      checkWorldUrls(a, args);
      return true;
    });
}

export type ExploreArgv = Awaited<ReturnType<ReturnType<typeof exploreArgs>['parseAsync']>>;

/** The exploration the arguments ask for; the seed is drawn (random) when not given. */
export function exploreSettingsOf(argv: ExploreArgv): ExploreSettings {
  const pipeline = argv.pipeline as PipelineProfile;
  return {
    pipeline,
    firmware: argv.firmware as FirmwareProfile,
    ackNamesCapture: argv['ack-names-capture'],
    stage: argv.stage ?? exploreStageDefault(pipeline),
    faults: argv.faults as FaultMix,
    runs: argv.runs,
    // Random unless given, and printed first: the same seed tries the same cases (ARCHITECTURE.md §6).
    seed: argv.seed ?? Math.floor(Math.random() * 0x7fffffff),
    databaseUrl: argv['database-url'],
    shrinkRunsMax: argv['shrink-runs'],
  };
}
