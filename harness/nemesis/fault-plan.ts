// What the nemesis does to a run (ARCHITECTURE.md §4): every fault drawn from the seed guide, each with a rate or
// a schedule, each recorded in the history as a `nemesis` event when injected, each with its healing step.
// Rates are probabilities per opportunity (per device wake, per message, …). Scheduled faults (restarts, killed
// connections, the mid-run migration) fire by trigger (trigger.ts): a share of the expected chunks stored ("40%"),
// transfers in flight ("3-in-flight"), or — machine-dependent, kept for old reports — ms after the fleet starts.
// Faults at logical points (fault-points.ts) strike at one exact moment each ("device 2 reboots after 5 chunks of
// its image 1"); a `migrate` point is a spelling of the migration's in-flight trigger and becomes `migration`.
import { formatFaultPoint, migrateTrigger, pointListProblem, type FaultPoint } from './fault-points.ts';

export interface DeviceFaults {
  /** Per wake with a transfer: reboot at a random point of it (RAM lost; SD queue and flash counter kept). */
  readonly rebootRate: number;
  /** Per capture: power loss while appending to the SD queue; the torn entry is lost (recorded, I5 exempts it). */
  readonly tornWriteRate: number;
  /** Per wake: the flash counter resets to 0 before the wake (a reflash / lost NVS write: name reuse). */
  readonly counterResetRate: number;
  /** Per image sent: the firmware sends it twice, back to back. */
  readonly doubleSendRate: number;
  /** Per image sent: the firmware sends it twice with the two transfers' chunks interleaved. */
  readonly interleavedSendRate: number;
  /** Per image sent: its metadata message is published twice. */
  readonly duplicateMetadataRate: number;
  /** Per wake: Wi-Fi is down for `wifiOutageWakes` consecutive wakes (queue grows, then drains). */
  readonly wifiOutageRate: number;
  readonly wifiOutageWakes: number;
  /** Per wake: the RTC reads 1970 (failed NTP sync) and timestamps go unpadded. */
  readonly badClockRate: number;
  /** Per device: speaks the vendor-spec dialect (field names, `device/<id>/…` topics). */
  readonly dialectDriftRate: number;
  /** Per image sent: the device also publishes one malformed message (bad base64 chunk, truncated JSON, or a
   *  device_id that disagrees with the topic; the kind drawn from the seed). The real transfer goes on; the pipeline
   *  must record the malformed one in rejected_messages (I9). */
  readonly corruptMessageRate: number;
}

export interface NetworkFaults {
  /** Per delivered message (broker → subscriber): dropped, delivered twice, held back behind the next one, delayed. */
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly reorderRate: number;
  readonly delayRate: number;
  readonly delayMs: number;
  /** Per device wake: the broker cuts the device's connection mid-session. */
  readonly disconnectRate: number;
  /** Broker restarts (embedded broker only), one per trigger. */
  readonly brokerRestartAt: readonly string[];
  /** Against a real broker: subscribe a deliberately slow extra consumer so its queue overflows. */
  readonly slowSubscriber: boolean;
  /** A rogue client publishes as the fleet's first device (a fake image, an ACK_OK on its ack topic), one per
   *  trigger (rogue-device.ts): the broker must refuse it. */
  readonly rogueDeviceAt: readonly string[];
}

export interface ServerFaults {
  /** Pipeline crash (in-memory state lost, no drain) and restart, one per trigger. */
  readonly pipelineRestartAt: readonly string[];
  /** Two pipeline instances consuming the same messages at once. */
  readonly twoInstances: boolean;
  /** `pg_terminate_backend` of every pipeline connection, one round per trigger. */
  readonly killConnectionsAt: readonly string[];
  /** Extra latency on every database round trip of the pipeline (a slow link), ms; 0 = none. */
  readonly slowDatabaseMs: number;
}

/**
 * The webhook forwarder's own faults (`--forward-webhook`, harness/forwarder/): a fault layer between the forwarder
 * and the user's handler, as the original mqtt-service's path to its edge function had them (PROTOCOL.md §7.2).
 * Only a run that forwards uses them.
 */
export interface WebhookFaults {
  /** Per delivery attempt: the request is held `slowMs` before it reaches the handler, or the handler's answer
   *  `slowMs` before the forwarder reads it; past the forwarder's timeout the attempt times out and is retried while
   *  the first one still runs (a repeated delivery, concurrent with the first). */
  readonly slowRate: number;
  readonly slowMs: number;
  /** Per delivery attempt: the handler's answer is replaced by a 502 after the handler did its work (→ a retry,
   *  a repeated delivery). */
  readonly error5xxRate: number;
  /** Per message: delivered twice at once. */
  readonly duplicateRate: number;
}

export interface MigrationFault {
  /** Apply the cleanup and resume migrations when this trigger is due, transfers in flight, then switch the
   *  pipeline to `fixed`. Only meaningful on the base stage with a legacy profile. */
  readonly at: string;
}

export interface FaultPlan {
  readonly device: DeviceFaults;
  readonly network: NetworkFaults;
  readonly server: ServerFaults;
  readonly webhook: WebhookFaults;
  readonly migration: MigrationFault | null;
  /** Faults at logical points, in the order given (never a `migrate` point: buildFaultPlan makes it `migration`). */
  readonly points: readonly FaultPoint[];
}

export type FaultMix = 'none' | 'default' | 'chaos';

const noDeviceFaults: DeviceFaults = {
  rebootRate: 0,
  tornWriteRate: 0,
  counterResetRate: 0,
  doubleSendRate: 0,
  interleavedSendRate: 0,
  duplicateMetadataRate: 0,
  wifiOutageRate: 0,
  wifiOutageWakes: 2,
  badClockRate: 0,
  dialectDriftRate: 0,
  corruptMessageRate: 0,
};
const noNetworkFaults: NetworkFaults = {
  dropRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  delayRate: 0,
  delayMs: 200,
  disconnectRate: 0,
  brokerRestartAt: [],
  slowSubscriber: false,
  rogueDeviceAt: [],
};
const noServerFaults: ServerFaults = {
  pipelineRestartAt: [],
  twoInstances: false,
  killConnectionsAt: [],
  slowDatabaseMs: 0,
};

const noWebhookFaults: WebhookFaults = { slowRate: 0, slowMs: 6000, error5xxRate: 0, duplicateRate: 0 };

export const faultMixes: Readonly<Record<FaultMix, FaultPlan>> = {
  none: {
    device: noDeviceFaults,
    network: noNetworkFaults,
    server: noServerFaults,
    webhook: noWebhookFaults,
    migration: null,
    points: [],
  },
  // What real fleets have: restarts, double sends and races (ARCHITECTURE.md §4), at modest rates.
  default: {
    device: {
      ...noDeviceFaults,
      rebootRate: 0.05,
      doubleSendRate: 0.05,
      duplicateMetadataRate: 0.03,
      counterResetRate: 0.01,
    },
    network: { ...noNetworkFaults, duplicateRate: 0.002, reorderRate: 0.002 },
    // By progress, not time: the restart lands mid-transfer however fast or loaded the machine is.
    server: { ...noServerFaults, pipelineRestartAt: ['40%'] },
    // A forwarder's faults are asked for by name (the flags, a scenario's faults.webhook): none in a mix, so a run
    // that starts forwarding keeps the rest of its plan.
    webhook: noWebhookFaults,
    migration: null,
    points: [],
  },
  chaos: {
    device: {
      rebootRate: 0.1,
      tornWriteRate: 0.02,
      counterResetRate: 0.03,
      doubleSendRate: 0.1,
      interleavedSendRate: 0.05,
      duplicateMetadataRate: 0.05,
      wifiOutageRate: 0.05,
      wifiOutageWakes: 2,
      badClockRate: 0.05,
      dialectDriftRate: 0.1,
      corruptMessageRate: 0.05,
    },
    network: {
      ...noNetworkFaults,
      dropRate: 0.01,
      duplicateRate: 0.01,
      reorderRate: 0.01,
      delayRate: 0.01,
      disconnectRate: 0.02,
      brokerRestartAt: ['45%'],
    },
    server: {
      pipelineRestartAt: ['25%', '65%'],
      twoInstances: true,
      killConnectionsAt: ['55%'],
      slowDatabaseMs: 0,
    },
    webhook: noWebhookFaults,
    migration: null,
    points: [],
  },
};

/** A deep partial of a plan, as scenario files and command-line rates give it. */
export interface FaultOverrides {
  readonly device?: Partial<DeviceFaults>;
  readonly network?: Partial<NetworkFaults>;
  readonly server?: Partial<ServerFaults>;
  readonly webhook?: Partial<WebhookFaults>;
  readonly migration?: MigrationFault | null;
  /** Replace the mix's points (every mix has none). */
  readonly points?: readonly FaultPoint[];
}

/**
 * The mix with the overrides laid over it. A `migrate` point becomes the plan's `migration` (its in-flight
 * trigger), so the run plans it as it plans `--migrate-at`. Throws on points that contradict each other or the
 * plan (a point twice, two migrations): the flags and scenario files check the same first (`pointListProblem`).
 */
export function buildFaultPlan(mix: FaultMix, overrides: FaultOverrides = {}): FaultPlan {
  const base = faultMixes[mix];
  const migration = overrides.migration === undefined ? base.migration : overrides.migration;
  const given = overrides.points ?? base.points;
  const problem = pointListProblem(given, migration !== null);
  if (problem !== undefined) throw new Error(problem);
  const migrate = given.find((point) => point.kind === 'migrate');
  return {
    device: { ...base.device, ...overrides.device },
    network: { ...base.network, ...overrides.network },
    server: { ...base.server, ...overrides.server },
    webhook: { ...base.webhook, ...overrides.webhook },
    migration: migrate === undefined ? migration : { at: migrateTrigger(migrate) },
    points: given.filter((point) => point.kind !== 'migrate'),
  };
}

/** Fields of a fault group that are parameters of another fault (its length, its delay), not faults of their own. */
export const faultParameterFields: ReadonlySet<string> = new Set(['wifiOutageWakes', 'delayMs', 'slowMs']);

/** A fault group's value is switched on: a rate above 0, a non-empty trigger list, `true`. */
export function isFaultOn(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : typeof value === 'number' ? value > 0 : value === true;
}

/** Only the faults that are switched on, one `group.name=value` each, for the line printed before a run. */
export function describeFaultPlan(plan: FaultPlan): string {
  const on: string[] = [];
  const add = (group: string, values: object) => {
    for (const [key, value] of Object.entries(values)) {
      if (faultParameterFields.has(key)) continue;
      if (isFaultOn(value)) on.push(`${group}.${key}=${Array.isArray(value) ? value.join('+') : String(value)}`);
    }
  };
  add('device', plan.device);
  add('network', plan.network);
  add('server', plan.server);
  add('webhook', plan.webhook);
  if (plan.migration) on.push(`migration.at=${plan.migration.at}`);
  for (const point of plan.points) on.push(`point=${formatFaultPoint(point)}`);
  return on.length === 0 ? 'none' : on.join(' ');
}
