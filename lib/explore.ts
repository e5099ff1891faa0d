// `explore(options)`: `camfleet explore` from code — generated fleets, fault plans and schedules in sim mode until
// an invariant fails, the shrink, and the scenario file of the smallest failing case (written, and confirmed by
// running it once more). The options are the command's flags camelCased, checked by its own parser.
import { exploreArgs, exploreSettingsOf } from '../harness/cli/explore-args.ts';
import type { InvariantId } from '../harness/checker/index.ts';
import { describeCase, type CaseSize, type ExploreCase } from '../harness/explore/explore-case.ts';
import { explore as exploreOn, type ExploreRun } from '../harness/explore/explore.ts';
import { ExploreWorld } from '../harness/explore/explore-world.ts';
import { writeFoundScenario } from '../harness/explore/found-scenario.ts';
import type { FaultMix } from '../harness/nemesis/fault-plan.ts';
import type { PipelineProfile } from '../harness/pipeline/options.ts';
import { exitCodes, type ExitCode } from '../harness/run/exit-codes.ts';
import type { RunStage } from '../harness/run/run-options.ts';
import type { FirmwareProfile } from '../simulator/firmware/index.ts';
import { parseAsCommand } from './parse-as-command.ts';

export type { ExploreRun } from '../harness/explore/explore.ts';

/** `camfleet explore --help`, camelCased. */
export interface ExploreOptions {
  readonly pipeline?: PipelineProfile | undefined;
  readonly firmware?: FirmwareProfile | undefined;
  readonly ackNamesCapture?: boolean | undefined;
  /** Default base for legacy-insert and legacy-two-writers, else resume. */
  readonly stage?: RunStage | undefined;
  readonly faults?: FaultMix | undefined;
  /** Cases to try (default 100). */
  readonly runs?: number | undefined;
  /** fast-check's seed (random when absent, and in the result): the same seed tries the same cases. */
  readonly seed?: number | undefined;
  /** Runs the shrink may take at most (default 400). */
  readonly shrinkRuns?: number | undefined;
  /** The counterexample's scenario file (default scenarios/found/<name>.json). */
  readonly out?: string | undefined;
  /** Cases at once while searching (default 4); the result does not depend on it. */
  readonly jobs?: number | undefined;
  /** Default `$DATABASE_URL`, else an embedded Postgres. */
  readonly databaseUrl?: string | undefined;
  /** Stops after the case running now; the result says `stopped`. */
  readonly signal?: AbortSignal | undefined;
  /** Each case run, search and shrink. */
  readonly onRun?: ((run: ExploreRun) => void) | undefined;
}

export interface ExploreOutcome {
  /** 0 nothing found, 1 a counterexample (confirmed), 3 one that did not fail again, runs that threw, or stopped. */
  readonly exitCode: ExitCode;
  readonly seed: number;
  readonly searchRuns: number;
  readonly shrinkRuns: number;
  readonly runsPerS: number;
  readonly errored: number;
  readonly firstError: string | undefined;
  readonly stopped: boolean;
  readonly counterexample:
    | {
        readonly failed: readonly InvariantId[];
        readonly size: CaseSize;
        readonly case: ExploreCase;
        /** One line: fleet, faults switched on, seed. */
        readonly description: string;
        readonly foundAtCase: number;
        readonly foundSize: CaseSize;
        readonly shrinkSteps: number;
        /** The scenario file written for it, and the commands that run it and replay its bundle. */
        readonly scenarioFile: string;
        readonly runCommand: string;
        readonly replayCommand: string;
        readonly bundleDir: string;
        /** Run again from its file, it failed the same invariants (false: a determinism bug). */
        readonly confirmed: boolean;
      }
    | undefined;
}

const refused: Readonly<Record<string, string>> = { quiet: 'the library prints nothing' };

export async function explore(options: ExploreOptions = {}): Promise<ExploreOutcome> {
  const { signal, onRun, ...flagOptions } = options;
  const { argv } = await parseAsCommand('explore', flagOptions, exploreArgs, refused);
  const settings = exploreSettingsOf(argv);
  const world = await ExploreWorld.open(settings.databaseUrl, Math.min(argv.jobs, argv.runs));
  try {
    const result = await exploreOn(settings, world, {
      ...(signal === undefined ? {} : { signal }),
      ...(onRun === undefined ? {} : { onRun }),
    });
    const base = {
      seed: settings.seed,
      searchRuns: result.searchRuns,
      shrinkRuns: result.shrinkRuns,
      runsPerS: result.runsPerS,
      errored: result.errored,
      firstError: result.firstError,
      stopped: result.stopped,
    };
    const found = result.counterexample;
    if (found === undefined)
      return {
        ...base,
        exitCode: result.errored > 0 || result.stopped ? exitCodes.unknown : exitCodes.pass,
        counterexample: undefined,
      };
    const written = await writeFoundScenario(found, settings, world, argv.out);
    return {
      ...base,
      exitCode: written.confirmed ? exitCodes.violated : exitCodes.unknown,
      counterexample: {
        failed: found.failed,
        size: found.size,
        case: found.case,
        description: describeCase(found.case),
        foundAtCase: found.foundAtCase,
        foundSize: found.found.size,
        shrinkSteps: found.shrinkSteps.length,
        scenarioFile: written.file,
        runCommand: written.runCommand,
        replayCommand: written.replayCommand,
        bundleDir: written.bundleDir,
        confirmed: written.confirmed,
      },
    };
  } finally {
    await world.close();
  }
}
