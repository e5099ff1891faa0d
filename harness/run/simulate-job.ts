// One `simulate` run from its options to its files: the run (live or sim), a replay held against its bundle, the
// failure bundle, the --report files, and the exit code. Shared by the command (harness/cli/simulate.ts), which then
// prints, and the library's simulate() (lib/simulate.ts), which returns it.
import { resolve } from 'node:path';
import { entryFromRun, writeReport, type WrittenReport } from '../report/index.ts';
import { defaultBundleDir, historyNdjson, replayCommand, writeBundle, type BundleFile } from './bundle.ts';
import { describeFailure, exitCodes, type ExitCode } from './exit-codes.ts';
import { runLive, type LiveRunResult, type RunHooks } from './live-run.ts';
import type { RunMode } from './run-mode.ts';
import type { LiveRunOptions } from './run-options.ts';
import { checkReplay, type ReplayCheck } from './replay-check.ts';
import { runSim, type SimRunResult } from './sim-run.ts';

export interface SimulateJob {
  readonly options: LiveRunOptions;
  readonly mode: RunMode;
  /** A bundle being replayed (`--replay`): the run is held against it. */
  readonly replayed?: { readonly dir: string; readonly file: BundleFile };
  /** `--report`: junit.xml and summary.json go there, and a failure's bundle under it. */
  readonly reportDir?: string | undefined;
  readonly hooks?: RunHooks;
}

/** A run's numbers, as `simulate --json` prints them and the library's simulate() returns them. */
export function runStats(result: LiveRunResult) {
  return {
    fleet: result.fleet,
    pipeline: result.pipeline,
    /** The webhook forwarder's counters, when the run forwarded. */
    ...(result.webhook === undefined ? {} : { webhook: result.webhook }),
    /** Complete image rows in the database after the run. */
    imagesComplete: result.imagesComplete,
    fleetMs: result.fleetMs,
    wallMs: result.wallMs,
    peakRssBytes: result.peakRssBytes,
    faultsInjected: result.faultsInjected,
    broker: result.brokerKind,
    database: result.databaseKind,
  };
}

export type RunStats = ReturnType<typeof runStats>;

export interface SimulateOutcome {
  readonly result: LiveRunResult;
  /** The same result with its schedule, in sim. */
  readonly sim: SimRunResult | undefined;
  readonly replayCheck: ReplayCheck | undefined;
  /** Where the failure bundle is and the command that replays it (absent for a pass). */
  readonly bundle: { readonly dir: string; readonly replay: string } | undefined;
  readonly report: WrittenReport | undefined;
  readonly exitCode: ExitCode;
}

/** The run is judged but its bundle or report could not be written: an environment error (exit 2). */
export class RunFilesError extends Error {
  readonly exitCode = exitCodes.usage;
  constructor(cause: unknown) {
    super(describeFailure(cause).message.replace(/^error: /, 'could not write the bundle or report: '));
    this.name = 'RunFilesError';
  }
}

export async function runSimulateJob(job: SimulateJob): Promise<SimulateOutcome> {
  const { options, mode, replayed, reportDir } = job;
  const hooks = job.hooks ?? {};
  let result: LiveRunResult;
  let sim: SimRunResult | undefined;
  if (mode === 'sim') result = sim = await runSim(options, hooks);
  else result = await runLive(options, hooks);

  // A replay is held against its bundle: byte for byte for a sim bundle replayed in sim, otherwise said to be unchecked.
  const replayCheck =
    replayed === undefined || result.shard !== undefined
      ? undefined
      : await checkReplay(replayed.dir, replayed.file, {
          mode,
          aborted: result.aborted,
          verdicts: result.verdicts,
          scheduleDigest: sim?.schedule.scheduleDigest,
          historyText: historyNdjson(result.history.events),
        });

  // A failure leaves a bundle that re-runs the same workload and fault plan; --report writes CI-readable files.
  let bundle: { dir: string; replay: string } | undefined;
  let report: WrittenReport | undefined;
  // A shard judges nothing (`npm run check` does, over every shard's history): no bundle, no report.
  if (result.shard === undefined)
    try {
      // A replay that reproduced its bundle exactly has nothing to add to it; one that did not leaves its own bundle
      // even when it passed, so that the two histories can be diffed.
      if (replayCheck?.status === 'reproduced' && replayed !== undefined) {
        if (result.verdict !== 'pass') bundle = { dir: replayed.dir, replay: replayCommand(replayed.dir) };
      } else if (result.verdict !== 'pass' || replayCheck?.status === 'diverged') {
        const dir = defaultBundleDir('simulate', options.seed, reportDir);
        // A replay never writes over the bundle it replays (which is the evidence it was held against).
        const beside = replayed !== undefined && resolve(dir) === resolve(replayed.dir) ? `${dir}-replay` : dir;
        bundle = await writeBundle(beside, {
          options,
          expected: 'pass',
          verdict: result.verdict,
          verdicts: result.verdicts,
          history: result.history.events,
          sim: sim === undefined ? undefined : { scheduleDigest: sim.schedule.scheduleDigest },
        });
      }
      if (reportDir !== undefined)
        report = await writeReport(
          reportDir,
          [
            entryFromRun({ name: 'simulate', purpose: 'npm run simulate', options, expected: 'pass' }, result, {
              bundleDir: bundle?.dir,
              replay: bundle?.replay,
            }),
          ],
          [result.history.events],
        );
    } catch (error) {
      // The run is done and judged; failing to write its files is an environment error, not a verdict.
      throw new RunFilesError(error);
    }

  // A replay that did not reproduce is a finding of its own and outranks the verdict (exit-codes.ts).
  const exitCode =
    replayCheck?.status === 'diverged'
      ? exitCodes.replayDiverged
      : result.verdict === 'pass'
        ? exitCodes.pass
        : result.verdict === 'fail'
          ? exitCodes.violated
          : exitCodes.unknown;
  return { result, sim, replayCheck, bundle, report, exitCode };
}
