// A scenario spec → the options of one live run: liveRunDefaults, the spec's fleet, pipeline, firmware, stage and time
// budget, and its fault plan built from the mix plus the spec's overrides (nemesis/fault-plan.ts).
import { buildFaultPlan, type FaultOverrides } from '../harness/nemesis/fault-plan.ts';
import { liveRunDefaults, type LiveRunOptions, type PipelineChoice } from '../harness/run/run-options.ts';
import type { WebhookRunOptions } from '../harness/run/run-options.ts';
import { WEBHOOK_RETRIES_DEFAULT, WEBHOOK_TIMEOUT_MS_DEFAULT } from '../harness/forwarder/core.ts';
import type { RunMode } from '../harness/run/run-mode.ts';
import { repoRoot, type Scenario } from './spec.ts';

/** The seed of a scenario without its own `seed`, so a plain `scenario run` is the same run every time. */
export const defaultScenarioSeed = 1;

/** `fast` shrinks a fleet to at most this many devices and this image size (KiB). */
export const fastDevicesMax = 4;
export const fastImageKbMax = 12;

export interface ScenarioRunContext {
  /** Overrides the scenario's seed. */
  readonly seed?: number | undefined;
  readonly brokerUrl: string | undefined;
  /** A CA (PEM) to trust for an mqtts:// `brokerUrl`. */
  readonly brokerCa?: string | undefined;
  readonly databaseUrl: string | undefined;
  readonly historyPath?: string | undefined;
  /** Runs the scenario against another pipeline profile (the sensitivity table). */
  readonly pipeline?: PipelineChoice | undefined;
  /** Shrinks the fleet (fastDevicesMax, fastImageKbMax) for a quicker regression run. */
  readonly fast?: boolean | undefined;
  /** The world the scenario runs in (default live): sim has no broker URL, so `brokerUrl` is then undefined. */
  readonly mode?: RunMode | undefined;
  /** The shell command that starts the user's own service (run-setup.ts): the run's pipeline is `external`, and
   *  the scenario is held to `pass` (runScenario), whatever profile it names. */
  readonly externalCommand?: string | undefined;
  /** Forward to this handler instead of the scenario's own (or at all, for a scenario without one). A scenario that
   *  names a handler is then held to `pass` (runScenario): its expectation describes the handler it names. */
  readonly webhook?: WebhookRunOptions | undefined;
}

export function scenarioFaultOverrides(scenario: Scenario): FaultOverrides {
  const { device, network, server, webhook, migration, points } = scenario.faults;
  return {
    ...(points ? { points } : {}),
    ...(device ? { device } : {}),
    ...(network ? { network } : {}),
    ...(server ? { server } : {}),
    ...(webhook ? { webhook } : {}),
    ...(migration !== undefined ? { migration } : {}),
  };
}

export function scenarioRunOptions(scenario: Scenario, context: ScenarioRunContext): LiveRunOptions {
  const { fleet } = scenario;
  const imageKb = fleet.imageKb ?? liveRunDefaults.imageKbMean;
  return {
    ...liveRunDefaults,
    devices: context.fast ? Math.min(fleet.devices, fastDevicesMax) : fleet.devices,
    imagesPerDevice: fleet.images,
    imageKbMean: context.fast ? Math.min(imageKb, fastImageKbMax) : imageKb,
    chunkBytes: fleet.chunkBytes ?? liveRunDefaults.chunkBytes,
    wakesMax: fleet.wakesMax ?? liveRunDefaults.wakesMax,
    qos: fleet.qos ?? liveRunDefaults.qos,
    dialect: fleet.dialect ?? liveRunDefaults.dialect,
    ackTimeoutMs: fleet.ackTimeoutMs ?? liveRunDefaults.ackTimeoutMs,
    seed: context.seed ?? scenario.seed ?? defaultScenarioSeed,
    brokerUrl: context.brokerUrl,
    brokerCa: context.brokerCa,
    databaseUrl: context.databaseUrl,
    timeBudgetMs: scenario.timeBudgetS * 1000,
    pipeline: context.externalCommand !== undefined ? 'external' : (context.pipeline ?? scenario.pipeline),
    firmware: scenario.firmware ?? liveRunDefaults.firmware,
    ackNamesCapture: scenario.ackNamesCapture ?? liveRunDefaults.ackNamesCapture,
    stage: scenario.stage,
    faults: buildFaultPlan(scenario.faults.mix, scenarioFaultOverrides(scenario)),
    exercises: scenario.exercises,
    historyPath: context.historyPath,
    externalCommand: context.externalCommand,
    webhook: scenarioWebhook(scenario, context),
  };
}

/** The handler the run forwards to: the one given to this run (`--forward-webhook`, `--webhook-cmd`), else the
 *  scenario's own, started from the repository root (its command names files there). */
function scenarioWebhook(scenario: Scenario, context: ScenarioRunContext): WebhookRunOptions | undefined {
  if (context.webhook !== undefined) return context.webhook;
  const own = scenario.webhook;
  if (own === undefined) return undefined;
  return {
    url: undefined,
    command: own.cmd,
    cwd: repoRoot,
    timeoutMs: own.timeoutMs ?? WEBHOOK_TIMEOUT_MS_DEFAULT,
    retries: own.retries ?? WEBHOOK_RETRIES_DEFAULT,
  };
}
