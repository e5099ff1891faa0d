// `runScenario(scenario, options)`: one scenario of the catalogue (by name), of a spec file (a path) or given as an
// object, held to its expectation as `camfleet scenario run` holds it. Against your own pipeline (`externalCmd`),
// the expectation is `pass`: a scenario's expectation describes the profile it names, and a correct pipeline
// passes every one.
import { existsSync } from 'node:fs';
import type { Outcome } from '../harness/checker/expectation.ts';
import type { InvariantOutcome } from '../harness/checker/expectation.ts';
import { entryLines, writeReport, type ReportEntry, type WrittenReport } from '../harness/report/index.ts';
import { UsageError } from '../harness/run/exit-codes.ts';
import type { RunMode } from '../harness/run/run-mode.ts';
import type { PipelineChoice } from '../harness/run/run-options.ts';
import { runScenario as runOne } from '../scenarios/run-scenario.ts';
import { brokerCaOf, brokerLoginProblem, brokerUrlWithLogin } from '../harness/cli/broker-login.ts';
import { loadScenario, readCatalogue, type Scenario } from '../scenarios/spec.ts';
import { forwards, webhookProblem, webhookRunOptions } from '../harness/cli/webhook-options.ts';
import { callbackKeys, runHooksOf, type RunCallbacks } from './simulate.ts';

export type { Scenario } from '../scenarios/spec.ts';

export interface ScenarioOptions extends RunCallbacks {
  /** `live` (default: aedes in this process, or `brokerUrl`) or `sim` (the seeded scheduler). */
  readonly mode?: RunMode | undefined;
  /** Overrides the scenario's seed. */
  readonly seed?: number | undefined;
  /** Default `$MQTT_URL`, else aedes in this process (live only). */
  readonly brokerUrl?: string | undefined;
  /** On `brokerUrl`: a user name and password (default `$MQTT_USERNAME`, `$MQTT_PASSWORD`; never printed) and a CA
   *  file (PEM) to trust for mqtts:// (default `$MQTT_CA_FILE`). */
  readonly mqttUsername?: string | undefined;
  readonly mqttPassword?: string | undefined;
  readonly mqttCaFile?: string | undefined;
  /** Default `$DATABASE_URL`, else an embedded Postgres. */
  readonly databaseUrl?: string | undefined;
  /** Run it against another pipeline profile than the one it names (its expectation still applies). */
  readonly pipeline?: PipelineChoice | undefined;
  /** Your own pipeline: the shell command that starts it, given MQTT_URL and DATABASE_URL; the expectation is
   *  `pass`. Live only (sim has no broker URL to give it). */
  readonly externalCmd?: string | undefined;
  /** Also POST every device message to this URL (your webhook handler), as `--forward-webhook`; live only. */
  readonly forwardWebhook?: string | undefined;
  /** The shell command that starts your handler (given DATABASE_URL and PORT), as `--webhook-cmd`; a scenario
   *  that names a handler of its own is then held to `pass`. Live only. */
  readonly webhookCmd?: string | undefined;
  /** The forwarder's timeout per attempt (default 5000) and its retries (default 3). */
  readonly webhookTimeoutMs?: number | undefined;
  readonly webhookRetries?: number | undefined;
  /** At most 4 devices and 12 KiB images. */
  readonly fast?: boolean | undefined;
  /** Write the run's history as NDJSON to this file. */
  readonly history?: string | undefined;
  /** Write junit.xml and summary.json into this directory (and a failure's bundle under it). */
  readonly report?: string | undefined;
}

export interface ScenarioResult {
  readonly name: string;
  /** `met`: the run gave the verdict the scenario expects; `unmet`: it did not; `unknown`: it could not tell. */
  readonly outcome: Outcome;
  readonly verdict: 'pass' | 'fail' | 'unknown';
  /** Per invariant: expected, got, held or not, and the offending rows. */
  readonly invariants: readonly InvariantOutcome[];
  /** The lines `camfleet scenario run` prints for it (expected and got per invariant, offending rows, outcome). */
  readonly table: string;
  readonly seed: number;
  readonly wallMs: number;
  /** Why it did not run (sim refused it, its spec keeps it out of the mode, the world failed to start). */
  readonly error: string | undefined;
  readonly bundleDir: string | undefined;
  readonly replayCommand: string | undefined;
  readonly report: WrittenReport | undefined;
  /** The report entry as junit.xml and summary.json are written from it. */
  readonly entry: ReportEntry;
}

/** Every scenario of the catalogue (invalid files are left out; `camfleet scenario list` names them). */
export function listScenarios(): Scenario[] {
  return readCatalogue().scenarios;
}

/** A scenario by catalogue name, by spec file path (`….json`), or as given. */
export function resolveScenario(scenario: string | Scenario): Scenario {
  if (typeof scenario !== 'string') return scenario;
  if (scenario.endsWith('.json') || scenario.includes('/')) {
    if (!existsSync(scenario)) throw new UsageError(`runScenario: no scenario file ${scenario}`);
    return loadScenario(scenario, { requireFileName: false });
  }
  const { scenarios, invalid } = readCatalogue();
  const found = scenarios.find((s) => s.name === scenario);
  if (found !== undefined) return found;
  const broken = invalid.find((s) => s.name === scenario);
  if (broken !== undefined) throw new UsageError(`scenario "${scenario}" does not load: ${broken.error}`);
  throw new UsageError(
    `runScenario: no scenario named "${scenario}"; the catalogue has: ${scenarios.map((s) => s.name).join(', ')}`,
  );
}

/** Every option runScenario takes: anything else is a typo, refused (as the commands refuse an unknown flag). */
const scenarioOptionKeys = new Set<string>([
  'mode',
  'seed',
  'brokerUrl',
  'mqttUsername',
  'mqttPassword',
  'mqttCaFile',
  'databaseUrl',
  'pipeline',
  'externalCmd',
  'forwardWebhook',
  'webhookCmd',
  'webhookTimeoutMs',
  'webhookRetries',
  'fast',
  'history',
  'report',
  ...callbackKeys,
]);

export async function runScenario(scenario: string | Scenario, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const unknownKey = Object.keys(options).find((key) => !scenarioOptionKeys.has(key));
  if (unknownKey !== undefined)
    throw new UsageError(
      `runScenario: unknown option "${unknownKey}" (options: ${[...scenarioOptionKeys].sort().join(', ')})`,
    );
  const spec = resolveScenario(scenario);
  const mode = options.mode ?? 'live';
  if (options.externalCmd !== undefined && mode === 'sim')
    throw new UsageError('runScenario: externalCmd needs a broker URL to give your service: live mode only');
  if (options.externalCmd !== undefined && options.pipeline !== undefined && options.pipeline !== 'external')
    throw new UsageError(`runScenario: externalCmd runs your own pipeline; pipeline "${options.pipeline}" is ours`);
  const webhookArgs = {
    'forward-webhook': options.forwardWebhook,
    'webhook-cmd': options.webhookCmd,
    'webhook-timeout-ms': options.webhookTimeoutMs,
    'webhook-retries': options.webhookRetries,
  };
  const webhookTrouble =
    !forwards(webhookArgs) && (options.webhookTimeoutMs !== undefined || options.webhookRetries !== undefined)
      ? 'webhookTimeoutMs and webhookRetries go with forwardWebhook or webhookCmd'
      : webhookProblem(webhookArgs, mode, []);
  if (webhookTrouble !== undefined) throw new UsageError(`runScenario: ${webhookTrouble}`);
  if (mode === 'sim' && options.brokerUrl !== undefined)
    throw new UsageError('runScenario: sim mode runs its own in-memory broker: brokerUrl is for live runs');
  // As the command: MQTT_URL, MQTT_USERNAME, MQTT_PASSWORD, MQTT_CA_FILE and DATABASE_URL unless given.
  const login = {
    'broker-url': mode === 'sim' ? undefined : (options.brokerUrl ?? (process.env.MQTT_URL || undefined)),
    'mqtt-username': options.mqttUsername ?? (process.env.MQTT_USERNAME || undefined),
    'mqtt-password': options.mqttPassword ?? (process.env.MQTT_PASSWORD || undefined),
    'mqtt-ca-file': options.mqttCaFile ?? (process.env.MQTT_CA_FILE || undefined),
  };
  const given = [options.mqttUsername, options.mqttPassword, options.mqttCaFile].some((v) => v !== undefined);
  const loginTrouble =
    given && login['broker-url'] === undefined
      ? 'mqttUsername, mqttPassword and mqttCaFile are for a broker of yours (brokerUrl or MQTT_URL, live mode)'
      : brokerLoginProblem(login, []);
  if (loginTrouble !== undefined) throw new UsageError(`runScenario: ${loginTrouble}`);
  const run = await runOne(
    spec,
    {
      seed: options.seed,
      // Sim has its own router: no broker URL there.
      brokerUrl: brokerUrlWithLogin(login),
      brokerCa: brokerCaOf(login),
      databaseUrl: options.databaseUrl ?? (process.env.DATABASE_URL || undefined),
      historyPath: options.history,
      pipeline: options.pipeline,
      externalCommand: options.externalCmd,
      webhook: webhookRunOptions(webhookArgs),
      fast: options.fast,
      mode,
    },
    { hooks: runHooksOf(options), reportDir: options.report },
  );
  const entry = run.entry;
  const report =
    options.report === undefined ? undefined : await writeReport(options.report, [entry], [run.result?.history.events]);
  return {
    name: entry.name,
    outcome: entry.outcome,
    verdict: entry.verdict,
    invariants: entry.invariants,
    table: entryLines(entry, options.signal?.aborted === true).join('\n'),
    seed: entry.seed,
    wallMs: entry.wallMs,
    error: entry.error,
    bundleDir: entry.bundleDir,
    replayCommand: entry.replay,
    report,
    entry,
  };
}
