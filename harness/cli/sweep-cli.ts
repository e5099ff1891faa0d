// `npm run simulate -- --mode sim --seeds 1..500` (issue 8 "Commands"): the sweep of harness/run/sweep.ts as a
// person or CI sees it. One line per failing or unknown seed with the replay command a single run prints, a
// progress bar on a terminal's stderr only, and one last line `N runs, M failed, R runs/s`; `--json` instead
// prints one summary object on stdout.
import cliProgress from 'cli-progress';
import { exitCodes } from '../run/exit-codes.ts';
import { reproduceCommand } from '../run/reproduce.ts';
import type { LiveRunOptions } from '../run/run-options.ts';
import { runSweep, type SweepResult, type SweepRun } from '../run/sweep.ts';

/** Flags a sweep refuses: each names one run's files or seed, and a sweep is many runs. */
export function sweepProblem(a: {
  readonly mode?: unknown;
  readonly seed?: unknown;
  readonly replay?: unknown;
  readonly history?: unknown;
  readonly report?: unknown;
  readonly 'keep-db'?: unknown;
}): string | undefined {
  if (a.mode !== 'sim') return '--seeds sweeps in sim mode only: add --mode sim';
  if (a.seed !== undefined) return '--seeds and --seed do not go together (a sweep sets each run its seed)';
  if (a.replay !== undefined) return '--seeds and --replay do not go together (a bundle is one run)';
  if (a.history !== undefined) return '--history is one run’s file: replay a failing seed alone to write it';
  if (a.report !== undefined) return '--report is not written by a sweep yet: use --json';
  if (a['keep-db'] === true) return '--keep-db keeps one run’s database: replay a failing seed alone with it';
  return undefined;
}

/** The command that re-runs one seed of the sweep alone: the one a single sim run prints. */
export function sweepReplayCommand(options: LiveRunOptions, seed: number): string {
  return reproduceCommand({ ...options, seed }, 'sim');
}

export function failureLine(run: SweepRun, options: LiveRunOptions): string {
  const what = run.detail === '' ? '' : ` ${run.detail}`;
  return `seed ${run.seed}: ${run.verdict.toUpperCase()}${what}  replay: ${sweepReplayCommand(options, run.seed)}`;
}

export function finalLine(result: SweepResult): string {
  return `${result.runs.length} runs, ${result.failed} failed, ${result.runsPerS.toFixed(1)} runs/s`;
}

/** Runs the sweep and prints it; returns the exit code (1 any failed, 3 none failed but some unknown, else 0). */
export async function sweepCli(
  options: LiveRunOptions,
  seeds: readonly number[],
  flags: { readonly json: boolean; readonly quiet: boolean; readonly jobs?: number; readonly signal?: AbortSignal },
): Promise<number> {
  const bar =
    process.stderr.isTTY && !flags.quiet
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: ' seeds |{bar}| {value}/{total} {failed} failed', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(seeds.length, 0, { failed: 0 });
  let failed = 0;
  const result = await runSweep(options, seeds, {
    ...(flags.signal === undefined ? {} : { signal: flags.signal }),
    ...(flags.jobs === undefined ? {} : { jobs: flags.jobs }),
    onRun(run, index) {
      if (run.verdict === 'fail') failed += 1;
      bar?.update(index + 1, { failed });
      // Printed as found, so a long sweep shows its failures before it ends (above the bar on a terminal).
      if (run.verdict !== 'pass' && !flags.json) {
        if (bar !== undefined) bar.stop();
        process.stdout.write(failureLine(run, options) + '\n');
        if (bar !== undefined && index + 1 < seeds.length) bar.start(seeds.length, index + 1, { failed });
      }
    },
  }).finally(() => bar?.stop());
  if (flags.json) {
    const runsPerS = Math.round(result.runsPerS * 10) / 10;
    const failures = result.runs
      .filter((r) => r.verdict !== 'pass')
      .map((r) => ({
        seed: r.seed,
        verdict: r.verdict,
        invariants: r.invariants,
        replay: sweepReplayCommand(options, r.seed),
      }));
    process.stdout.write(
      JSON.stringify({ runs: result.runs.length, failed: result.failed, unknown: result.unknown, runsPerS, failures }) +
        '\n',
    );
  } else process.stdout.write(finalLine(result) + '\n');
  if (result.failed > 0) return exitCodes.violated;
  return result.unknown > 0 ? exitCodes.unknown : exitCodes.pass;
}
