// Everything that defines a live run. Printed first (with the seed), so a run can be repeated.
import type { FirmwareProfile } from '../../simulator/firmware/index.ts';
import type { Dialect } from '../../simulator/protocol/index.ts';
import type { ExerciseName } from '../checker/exercises.ts';
import type { FaultPlan } from '../nemesis/fault-plan.ts';
import { pipelineProfiles, type PipelineProfile } from '../pipeline/options.ts';
import { faultMixes } from '../nemesis/fault-plan.ts';
import { shardSlice, type Shard } from './shard.ts';

/** The reference pipeline (`fixed`), one of the original system's bugs (ARCHITECTURE.md §5), or the user's own
 *  service (`external`: camfleet starts no pipeline; the user's service connects to the same broker and database). */
export type PipelineChoice = PipelineProfile | 'external';

export const pipelineChoices: readonly PipelineChoice[] = [...pipelineProfiles, 'external'];

/** The seed migration's stage the run's database starts at; camfleet's pipeline tables (004) are always added. */
export type RunStage = 'base' | 'cleanup' | 'resume';

export interface LiveRunOptions {
  readonly devices: number;
  readonly imagesPerDevice: number;
  readonly imageKbMean: number;
  readonly chunkBytes: number;
  readonly wakesMax: number;
  readonly seed: number;
  readonly qos: 0 | 1;
  readonly dialect: Dialect;
  readonly brokerUrl: string | undefined;
  readonly databaseUrl: string | undefined;
  /** Virtual ms of deep sleep per real ms. */
  readonly timeScale: number;
  readonly concurrencyMax: number;
  readonly ackTimeoutMs: number;
  /** Whole-run limit: past it the run stops and the verdict is unknown (exit 3). */
  readonly timeBudgetMs: number;
  /** After the fleet finishes, how long to wait for in-flight work before checking. */
  readonly quietMs: number;
  /** Keep the run's database instead of dropping it (its name is printed). */
  readonly keepDatabase: boolean;
  readonly pipeline: PipelineChoice;
  /** The devices' firmware: the faithful v3.5.0 (`fw350`) or one with a device bug put back
   *  (simulator/firmware/profile.ts), as `pipeline` picks the server side's. */
  readonly firmware: FirmwareProfile;
  /** The opt-in protocol option "ACK names the capture" on both sides: the pipeline's ACK_OK carries the capture's
   *  timestamp and the devices dequeue only the capture it names (README, "A hazard of firmware v3.5.0"). */
  readonly ackNamesCapture: boolean;
  readonly stage: RunStage;
  readonly faults: FaultPlan;
  /** What the run must exercise (a scenario's `exercises`); not seen in the history → E1 unknown. */
  readonly exercises?: readonly ExerciseName[];
  /** Write the history as NDJSON here, when set. */
  readonly historyPath: string | undefined;
  /** MQTT connections of the reference pipeline, in one shared subscription (`$share/<group>/…`) when more than
   *  one: a broker bounds what it keeps per subscriber (Mosquitto drops past 1,000 queued). Undefined: 1 on the
   *  embedded aedes (it has no shared subscriptions, moscajs/aedes#228), WORKERS_EXTERNAL_DEFAULT on a broker of
   *  the user's. */
  readonly workers?: number | undefined;
  /** Threads the devices run on besides the run's own (fleet-threads.ts): 0 keeps them on the run's thread.
   *  Undefined: one per core but one (at most FLEET_THREADS_MAX), none below FLEET_THREADS_MIN_DEVICES devices.
   *  Live runs only: a sim world's devices share its one virtual clock. */
  readonly fleetThreads?: number | undefined;
  /** One shard of a run spread over several processes (shard.ts): this process simulates its slice of the
   *  `devices`, in the run's shared database, its pipeline in the run's group; it stores its history there for
   *  `npm run check` instead of checking. */
  readonly shard?: Shard | undefined;
  /** A CA (PEM text) every client trusts for an mqtts:// `brokerUrl`, besides the system's (--mqtt-ca-file). Not
   *  in a bundle (bundle.ts: like the URLs, where the broker is belongs to the machine, not to the run). */
  readonly brokerCa?: string | undefined;
  /** `pipeline: 'external'`: a shell command that starts the user's service (given MQTT_URL and DATABASE_URL). */
  readonly externalCommand: string | undefined;
  /** Forward every device message to the user's webhook handler as well (`--forward-webhook`, `--webhook-cmd`;
   *  harness/forwarder/), beside the run's pipeline. Live runs only. */
  readonly webhook?: WebhookRunOptions | undefined;
}

export interface WebhookRunOptions {
  /** Where to POST; undefined: the handler `command` starts, at http://127.0.0.1:<its PORT>/. */
  readonly url: string | undefined;
  /** A shell command that starts the handler, given DATABASE_URL (the run's database) and PORT (a free port). */
  readonly command: string | undefined;
  /** Where `command` runs (default this process's directory): a scenario's names files of the repository. */
  readonly cwd?: string | undefined;
  /** Per delivery attempt (the original's 5 s). */
  readonly timeoutMs: number;
  /** Retries of a timeout, a network error or a 5xx. */
  readonly retries: number;
}

/** --workers on a broker of the user's unless given: measured on this machine's Mosquitto (default configuration),
 *  500 devices re-sent 20 % of their chunks with 1 or 2 connections, none with 4 or 8 (README, "Real brokers"). */
export const WORKERS_EXTERNAL_DEFAULT = 8;
/** The most connections one pipeline opens. */
export { CONSUMERS_MAX as WORKERS_MAX } from '../pipeline/options.ts';

/** Why `workers` connections cannot share a subscription on this broker, or undefined. `ownBroker`: the embedded
 *  aedes or the sim router, neither of which has shared subscriptions. */
export function workersRefusal(workers: number, ownBroker: boolean): string | undefined {
  if (workers <= 1 || !ownBroker) return undefined;
  return `--workers ${workers} needs a broker with shared subscriptions ($share/…); the embedded aedes and the sim router have none (moscajs/aedes#228): give --broker-url, or --workers 1`;
}

export const liveRunDefaults = {
  devices: 500,
  imagesPerDevice: 1,
  imageKbMean: 70,
  chunkBytes: 1024,
  wakesMax: 8,
  qos: 1,
  dialect: 'fw350',
  timeScale: 360_000, // 1 h of deep sleep = 10 ms
  concurrencyMax: 500,
  ackTimeoutMs: 10_000,
  timeBudgetMs: 300_000,
  quietMs: 300,
  keepDatabase: false,
  pipeline: 'fixed',
  firmware: 'fw350',
  ackNamesCapture: false,
  stage: 'resume',
  faults: faultMixes.none,
  historyPath: undefined,
  externalCommand: undefined,
} as const satisfies Omit<LiveRunOptions, 'seed' | 'brokerUrl' | 'databaseUrl'>;

/** The devices this process simulates: the whole fleet, or a shard's slice of it (0-based, `to` exclusive). */
export function devicesSimulated(options: Pick<LiveRunOptions, 'devices' | 'shard'>): { from: number; to: number } {
  return options.shard === undefined ? { from: 0, to: options.devices } : shardSlice(options.devices, options.shard);
}
