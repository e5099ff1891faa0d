// `npm run explore` (issue 9): property-based exploration in sim mode — generated fleets, fault plans and
// schedules until an invariant fails, then the shrink to the smallest case that still fails, written as a
// ready-to-run scenario file. Exit 0 nothing found, 1 a counterexample (written), 2 usage or environment error,
// 3 a counterexample that did not fail again when confirmed (a determinism bug: reported, never hidden).
import './stdio.ts';
import cliProgress from 'cli-progress';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { faultMixes, type FaultMix } from '../nemesis/fault-plan.ts';
import { pipelineProfiles, type PipelineProfile } from '../pipeline/options.ts';
import { firmwareProfileDescriptions, firmwareProfiles, type FirmwareProfile } from '../../simulator/firmware/index.ts';
import { describeFailure, exitCodes } from '../run/exit-codes.ts';
import { describeCase, describeSize } from '../explore/explore-case.ts';
import { explore, SHRINK_RUNS_MAX_DEFAULT, type ExploreResult, type ExploreRun } from '../explore/explore.ts';
import { ExploreWorld } from '../explore/explore-world.ts';
import { exploreStageDefault } from '../explore/explore-stage.ts';
import { FOUND_DIR, writeFoundScenario } from '../explore/found-scenario.ts';
import { standardCli } from './exit.ts';
import { numberOption } from './number-option.ts';
import { checkWritableFile } from './path-options.ts';
import { onStopRequest } from './stop-signals.ts';
import { checkWorldUrls, worldOptions } from './world-options.ts';
import { SWEEP_JOBS_DEFAULT, SWEEP_JOBS_MAX } from '../run/sweep.ts';

/** Cases are drawn up front (fc.sample): more would be a typo, not one exploration. */
const RUNS_MAX = 100_000;

const argv = await standardCli(
  yargs(hideBin(process.argv))
    .scriptName('npm run explore --')
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
      checkWorldUrls(a);
      return true;
    }),
).parseAsync();

const pipeline = argv.pipeline as PipelineProfile;
const stage = argv.stage ?? exploreStageDefault(pipeline);
const faults = argv.faults as FaultMix;
// Random unless given, and printed first: the same seed tries the same cases (ARCHITECTURE.md §6).
const seed = argv.seed ?? Math.floor(Math.random() * 0x7fffffff);
const settings = {
  pipeline,
  firmware: argv.firmware as FirmwareProfile,
  ackNamesCapture: argv['ack-names-capture'],
  stage,
  faults,
  runs: argv.runs,
  seed,
  databaseUrl: argv['database-url'],
  shrinkRunsMax: argv['shrink-runs'],
};

process.stdout.write(
  `explore: pipeline ${pipeline}, firmware ${settings.firmware}${settings.ackNamesCapture ? ' (ACK names the capture)' : ''}, stage ${stage}, faults ${faults}, ${argv.runs} runs, seed ${seed} (sim mode)\n`,
);

const stop = new AbortController();
onStopRequest({
  stop(reason) {
    process.stderr.write(`\n${reason}: stopping after this run (Ctrl-C again to exit at once)…\n`);
    stop.abort();
  },
});

const bar =
  process.stderr.isTTY && !argv.quiet
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: ' {phase} |{bar}| {value}/{total} {detail}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;

/** A line above the bar (the bar is redrawn below it). */
function above(line: string): void {
  if (argv.quiet) return;
  bar?.stop();
  process.stdout.write(line + '\n');
}

let lastLineMs = Date.now();
function onRun(run: ExploreRun): void {
  if (run.phase === 'search') {
    if (bar !== undefined) {
      if (run.index === 1) bar.start(argv.runs, 0, { phase: 'search', detail: '' });
      bar.update(run.index, { phase: 'search', detail: describeSize(run.size) });
    } else if (!argv.quiet && Date.now() - lastLineMs > 3_000) {
      // Not a terminal (a CI log): a line every few seconds, so the log shows the exploration is alive.
      lastLineMs = Date.now();
      process.stdout.write(`search: ${run.index}/${argv.runs} runs\n`);
    }
    if (run.error !== undefined) above(`run ${run.index}: did not finish (${run.error}): ${describeCase(run.case)}`);
    if (run.failed.length > 0) {
      above(`found at case ${run.index}: ${run.failed.join(',')} fail with ${describeSize(run.size)}; shrinking…`);
      if (bar !== undefined) bar.start(settings.shrinkRunsMax, 0, { phase: 'shrink', detail: '' });
    }
    return;
  }
  bar?.update(Math.min(run.index, settings.shrinkRunsMax), { phase: 'shrink', detail: describeSize(run.size) });
  if (run.failed.length === 0) return;
  // A step that only changed what the size does not show (a seed, a point's chunk) is counted, not printed.
  const step = `${describeSize(run.size)}, images of ~${run.size.imageKb} KB, ${run.failed.join(',')} fail`;
  if (step !== lastStep) above(`  shrink run ${run.index}: ${step}`);
  lastStep = step;
}
let lastStep = '';

async function main(): Promise<number> {
  const world = await ExploreWorld.open(settings.databaseUrl, Math.min(argv.jobs, argv.runs));
  let result: ExploreResult;
  try {
    result = await explore(settings, world, { onRun, signal: stop.signal }).finally(() => bar?.stop());
    const found = result.counterexample;
    if (found === undefined) {
      const stopped = result.stopped ? ' (stopped)' : '';
      process.stdout.write(
        `${result.searchRuns} runs, 0 counterexamples, ${result.runsPerS.toFixed(1)} runs/s${stopped}\n`,
      );
      if (result.errored > 0)
        process.stdout.write(`${result.errored} runs did not finish; the first: ${result.firstError ?? ''}\n`);
      return result.errored > 0 || result.stopped ? exitCodes.unknown : exitCodes.pass;
    }
    const written = await writeFoundScenario(found, settings, world, argv.out);
    process.stdout.write(
      [
        `counterexample: ${describeSize(found.size)}, invariants ${found.failed.join(',')}`,
        `  ${describeCase(found.case)}`,
        `found at case ${found.foundAtCase} (${result.searchRuns} runs, ${(result.searchWallMs / 1000).toFixed(1)} s) with ${describeSize(found.found.size)}; ` +
          `shrunk in ${found.shrinkSteps.length} steps, ${result.shrinkRuns} runs, ${(result.shrinkWallMs / 1000).toFixed(1)} s`,
        `scenario: ${written.file}`,
        `  ${written.runCommand}`,
        `  ${written.replayCommand}`,
      ].join('\n') + '\n',
    );
    if (!written.confirmed) {
      process.stdout.write(
        `but re-run from that file it failed ${written.confirmedFailed.join(',') || 'nothing'}: the same case did not give the same run (a determinism bug; please report it with the file)\n`,
      );
      return exitCodes.unknown;
    }
    return exitCodes.violated;
  } finally {
    await world.close();
  }
}

try {
  process.exit(await main());
} catch (error) {
  const failure = describeFailure(error);
  console.error(failure.message);
  process.exit(failure.exitCode);
}
