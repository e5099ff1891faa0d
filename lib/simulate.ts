// `simulate(options)`: one run of `camfleet simulate` from code. The options are the command's flags camelCased
// (cli-args.ts), checked by the command's own parser; nothing is printed; the result is typed. A failing run leaves
// the same replay bundle the command leaves, and `report` writes the same junit.xml and summary.json.
import { formatVerdicts, type InvariantVerdict } from '../harness/checker/index.ts';
import { resolveSimulateRun, simulateArgs } from '../harness/cli/simulate-args.ts';
import type { Dialect } from '../simulator/protocol/index.ts';
import type { FirmwareProfile } from '../simulator/firmware/index.ts';
import type { DeviceFaults, FaultMix, NetworkFaults, ServerFaults } from '../harness/nemesis/fault-plan.ts';
import type { ExitCode } from '../harness/run/exit-codes.ts';
import type { RunHooks, RunProgress } from '../harness/run/live-run.ts';
import type { RunMode } from '../harness/run/run-mode.ts';
import type { PipelineChoice, RunStage } from '../harness/run/run-options.ts';
import { reproduceCommand } from '../harness/run/reproduce.ts';
import type { WrittenReport } from '../harness/report/index.ts';
import type { ReplayCheck } from '../harness/run/replay-check.ts';
import { runSimulateJob, runStats, type RunStats } from '../harness/run/simulate-job.ts';
import type { HistoryEvent } from '../harness/history/events.ts';
import { parseAsCommand } from './parse-as-command.ts';

/** Faults, as `simulate`'s fault flags camelCased: a mix and each fault's override (`rebootRate: 0.1`). */
export interface FaultOptions extends Partial<DeviceFaults>, Partial<NetworkFaults>, Partial<ServerFaults> {
  /** The mix the overrides change (default `default`, as the command). */
  readonly faults?: FaultMix | undefined;
  /** The mid-run migration (cleanup + resume) at this trigger (`--migrate-at`), on the base stage. */
  readonly migrateAt?: string | undefined;
  /** Faults at logical points (`--fault-at`), e.g. `reboot:device=1,image=1,after-chunks=5`. */
  readonly faultAt?: readonly string[] | undefined;
}

/** What a run is told while it runs, and how to stop it (nothing is printed by the library). */
export interface RunCallbacks {
  /** Stops the run early (the verdict is then at best `unknown`); the database is still dropped. */
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: RunProgress) => void) | undefined;
  /** Start-up steps (`starting Postgres`, `heal phase`…). */
  readonly onPhase?: ((phase: string) => void) | undefined;
  /** What the command shows as `warning:` (e.g. the devices awake at once capped to the open-files limit). */
  readonly onWarning?: ((line: string) => void) | undefined;
}

/** `camfleet simulate --help`, camelCased. Defaults are the command's (500 devices, the default fault mix…). */
export interface SimulateOptions extends FaultOptions, RunCallbacks {
  readonly devices?: number | undefined;
  readonly images?: number | undefined;
  readonly imageKb?: number | undefined;
  readonly chunkBytes?: number | undefined;
  readonly wakesMax?: number | undefined;
  /** Random (and in the result) when absent. */
  readonly seed?: number | undefined;
  readonly qos?: 0 | 1 | undefined;
  readonly dialect?: Dialect | undefined;
  /** `live` (default): a real broker and the real clock; `sim`: the seeded scheduler, same seed same history. */
  readonly mode?: RunMode | undefined;
  /** Default `$MQTT_URL`, else aedes in this process. */
  readonly brokerUrl?: string | undefined;
  /** On `brokerUrl`: a user name and password (default `$MQTT_USERNAME`, `$MQTT_PASSWORD`; never printed) and a CA
   *  file (PEM) to trust for mqtts:// besides the system's (default `$MQTT_CA_FILE`). */
  readonly mqttUsername?: string | undefined;
  readonly mqttPassword?: string | undefined;
  readonly mqttCaFile?: string | undefined;
  /** Default `$DATABASE_URL`, else an embedded Postgres. Each run creates and drops its own database there. */
  readonly databaseUrl?: string | undefined;
  readonly workers?: number | undefined;
  readonly fleetThreads?: number | undefined;
  readonly timeScale?: number | undefined;
  readonly concurrency?: number | undefined;
  readonly ackTimeoutMs?: number | undefined;
  readonly timeBudgetS?: number | undefined;
  readonly keepDb?: boolean | undefined;
  readonly pipeline?: PipelineChoice | undefined;
  readonly firmware?: FirmwareProfile | undefined;
  readonly ackNamesCapture?: boolean | undefined;
  /** With `pipeline: 'external'`: the shell command that starts your service (it gets MQTT_URL and DATABASE_URL). */
  readonly externalCmd?: string | undefined;
  /** Also POST every device message to your webhook handler at this URL (`--forward-webhook`); live only. */
  readonly forwardWebhook?: string | undefined;
  /** The shell command that starts your handler, given DATABASE_URL and PORT (`--webhook-cmd`); live only. */
  readonly webhookCmd?: string | undefined;
  /** The forwarder's timeout per attempt (default 5000) and its retries of a timeout, network error or 5xx (3). */
  readonly webhookTimeoutMs?: number | undefined;
  readonly webhookRetries?: number | undefined;
  /** The forwarder's own faults (`--webhook-slow-rate`, `--webhook-slow-ms`, `--webhook-5xx-rate`,
   *  `--webhook-duplicate-rate`). */
  readonly webhookSlowRate?: number | undefined;
  readonly webhookSlowMs?: number | undefined;
  readonly webhook5xxRate?: number | undefined;
  readonly webhookDuplicateRate?: number | undefined;
  readonly stage?: RunStage | undefined;
  /** Write every event as NDJSON to this file. */
  readonly history?: string | undefined;
  /** Write junit.xml and summary.json into this directory (and a failure's bundle under it). */
  readonly report?: string | undefined;
  /** Re-run a failure bundle (a sim bundle is checked byte for byte: `replayCheck`). */
  readonly replay?: string | undefined;
}

export interface SimulateResult {
  readonly verdict: 'pass' | 'fail' | 'unknown';
  /** What the command would exit with: 0 pass, 1 violated, 3 unknown, 4 a replay that diverged. */
  readonly exitCode: ExitCode;
  /** Stopped early (time budget or signal). */
  readonly aborted: boolean;
  readonly seed: number;
  readonly mode: RunMode;
  /** Every invariant's verdict, with its offending rows (`offending`, at most OFFENDING_SHOWN_MAX of them). */
  readonly invariants: readonly InvariantVerdict[];
  /** The verdict table as the command prints it. */
  readonly table: string;
  /** Fleet and pipeline counters, complete images, fleet and wall time, peak memory, faults injected, where. */
  readonly stats: RunStats;
  /** The failure bundle's folder and the command that replays it (absent for a pass). */
  readonly bundleDir: string | undefined;
  readonly replayCommand: string | undefined;
  /** The command line that repeats this run. */
  readonly reproduceCommand: string;
  /** junit.xml, summary.json and report.html. */
  readonly report: WrittenReport | undefined;
  readonly replayCheck: ReplayCheck | undefined;
  /** The run's history (what `history` writes as NDJSON). */
  readonly events: readonly HistoryEvent[];
}

/** Options the command has that a library call does not: printing, sweeps and shards are the command's. */
const commandOnly: Readonly<Record<string, string>> = {
  json: 'the result is already data',
  quiet: 'the library prints nothing',
  seeds: 'a sweep is the command’s (call simulate once per seed, or use the command)',
  jobs: 'a sweep is the command’s',
  shard: 'a sharded run is the command’s (camfleet simulate --shard k/n, then camfleet check)',
  runId: 'a sharded run is the command’s',
};

/** The keys of RunCallbacks: not command-line options. */
export const callbackKeys: readonly (keyof RunCallbacks)[] = ['signal', 'onProgress', 'onPhase', 'onWarning'];

/** The run's hooks for these callbacks (those given). */
export function runHooksOf(callbacks: RunCallbacks): RunHooks {
  const hooks: RunHooks = Object.fromEntries(
    callbackKeys.filter((key) => callbacks[key] !== undefined).map((key) => [key, callbacks[key]]),
  );
  return hooks;
}

export async function simulate(options: SimulateOptions = {}): Promise<SimulateResult> {
  const flagOptions = Object.fromEntries(
    Object.entries(options).filter(([key]) => !(callbackKeys as readonly string[]).includes(key)),
  );
  const { argv, args } = await parseAsCommand('simulate', flagOptions, simulateArgs, commandOnly);
  const { options: runOptions, mode, replayed } = await resolveSimulateRun(argv, args);
  const outcome = await runSimulateJob({
    options: runOptions,
    mode,
    ...(replayed === undefined ? {} : { replayed }),
    reportDir: argv.report,
    hooks: runHooksOf(options),
  });
  const { result } = outcome;
  return {
    verdict: result.verdict,
    exitCode: outcome.exitCode,
    aborted: result.aborted,
    seed: runOptions.seed,
    mode,
    invariants: result.verdicts,
    table: formatVerdicts(result.verdicts),
    stats: runStats(result),
    bundleDir: outcome.bundle?.dir,
    replayCommand: outcome.bundle?.replay,
    reproduceCommand: reproduceCommand(runOptions, mode),
    report: outcome.report,
    replayCheck: outcome.replayCheck,
    events: result.history.events,
  };
}
