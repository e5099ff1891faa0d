// `npm run explore` (issue 9): property-based exploration in sim mode — generated fleets, fault plans and
// schedules until an invariant fails, then the shrink to the smallest case that still fails, written as a
// ready-to-run scenario file. Exit 0 nothing found, 1 a counterexample (written), 2 usage or environment error,
// 3 a counterexample that did not fail again when confirmed (a determinism bug: reported, never hidden).
import './stdio.ts';
import cliProgress from 'cli-progress';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeFailure, exitCodes } from '../run/exit-codes.ts';
import { describeCase, describeSize } from '../explore/explore-case.ts';
import { explore, type ExploreResult, type ExploreRun } from '../explore/explore.ts';
import { ExploreWorld } from '../explore/explore-world.ts';
import { writeFoundScenario } from '../explore/found-scenario.ts';
import { standardCli } from './exit.ts';
import { onStopRequest } from './stop-signals.ts';
import { exploreArgs, exploreSettingsOf } from './explore-args.ts';

const args = hideBin(process.argv);
const argv = await standardCli(exploreArgs(yargs(args), args)).parseAsync();

const settings = exploreSettingsOf(argv);
const { pipeline, stage, faults, seed } = settings;

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
      if (bar !== undefined) bar.start(argv['shrink-runs'], 0, { phase: 'shrink', detail: '' });
    }
    return;
  }
  bar?.update(Math.min(run.index, argv['shrink-runs']), { phase: 'shrink', detail: describeSize(run.size) });
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
