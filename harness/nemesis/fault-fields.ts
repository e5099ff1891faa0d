// Every field of a fault plan (fault-plan.ts) declared once: its group, its kind, its command-line flag and what it
// does. Scenario files (scenarios/spec.ts), the `simulate` flags (harness/cli/fault-options.ts) and the command that
// repeats a run (harness/run/reproduce.ts) are all read off this list, so a new fault is named here and nowhere else.
// The type below checks that every field of DeviceFaults, NetworkFaults, ServerFaults and MigrationFault is here,
// with a kind that fits its type.
import type { DeviceFaults, MigrationFault, NetworkFaults, ServerFaults, WebhookFaults } from './fault-plan.ts';
import { triggerSyntax } from './trigger.ts';

/** A plan's parts, by the name a scenario file and a FaultPlan give them. */
interface FaultGroups {
  readonly device: DeviceFaults;
  readonly network: NetworkFaults;
  readonly server: ServerFaults;
  readonly webhook: WebhookFaults;
  readonly migration: MigrationFault;
}
export type FaultGroup = keyof FaultGroups;

/**
 * `rate` a probability per opportunity; `count` and `ms` whole numbers; `triggers` a list of fault triggers
 * (trigger.ts), `trigger` one; `switch` on or off.
 */
export type FaultFieldKind = 'rate' | 'count' | 'ms' | 'triggers' | 'trigger' | 'switch';
export type NumericFaultKind = Extract<FaultFieldKind, 'rate' | 'count' | 'ms'>;

/** The kinds a field of this type may have (a tuple, so `boolean` is not split into true | false). */
type KindFor<T> = [T] extends [number]
  ? NumericFaultKind
  : [T] extends [boolean]
    ? 'switch'
    : [T] extends [readonly string[]]
      ? 'triggers'
      : [T] extends [string]
        ? 'trigger'
        : never;

interface FieldDeclaration<T> {
  readonly kind: KindFor<T>;
  /** The `simulate` flag, without `--`. */
  readonly flag: string;
  /** The flag's older name, still accepted. */
  readonly alias?: string;
  /** For `--help`; the kind's own note (`(0–1)`, the trigger syntax) is added to it there. */
  readonly describe: string;
}

type GroupDeclaration<S> = { readonly [K in keyof S]-?: FieldDeclaration<S[K]> };

// In the order `--help` lists the flags and a scenario's "fields: …" message names them.
const declared = {
  device: {
    rebootRate: { kind: 'rate', flag: 'reboot-rate', describe: 'per transfer: device reboots mid-transfer' },
    tornWriteRate: {
      kind: 'rate',
      flag: 'torn-write-rate',
      describe: 'per capture: power loss tears the SD-queue write',
    },
    counterResetRate: {
      kind: 'rate',
      flag: 'counter-reset-rate',
      describe: 'per wake: flash counter resets (name reuse)',
    },
    doubleSendRate: { kind: 'rate', flag: 'double-send-rate', describe: 'per image: sent twice back to back' },
    interleavedSendRate: {
      kind: 'rate',
      flag: 'interleaved-send-rate',
      describe: 'per image: two interleaved transfers',
    },
    duplicateMetadataRate: {
      kind: 'rate',
      flag: 'duplicate-metadata-rate',
      describe: 'per image: metadata published twice',
    },
    wifiOutageRate: {
      kind: 'rate',
      flag: 'wifi-outage-rate',
      describe: 'per wake: Wi-Fi down for --wifi-outage-wakes wakes',
    },
    wifiOutageWakes: { kind: 'count', flag: 'wifi-outage-wakes', describe: 'length of a Wi-Fi outage, in wakes' },
    badClockRate: {
      kind: 'rate',
      flag: 'bad-clock-rate',
      describe: 'per wake: RTC reads 1970, unpadded timestamps',
    },
    dialectDriftRate: {
      kind: 'rate',
      flag: 'dialect-drift-rate',
      describe: 'per device: speaks the vendor-spec dialect',
    },
    corruptMessageRate: {
      kind: 'rate',
      flag: 'corrupt-message-rate',
      describe: 'per image: also sends one malformed message (bad base64, truncated JSON, wrong device_id)',
    },
  },
  network: {
    dropRate: { kind: 'rate', flag: 'drop-rate', describe: 'per delivery: message dropped' },
    duplicateRate: { kind: 'rate', flag: 'duplicate-rate', describe: 'per delivery: message delivered twice' },
    reorderRate: { kind: 'rate', flag: 'reorder-rate', describe: 'per delivery: held behind the next message' },
    delayRate: { kind: 'rate', flag: 'delay-rate', describe: 'per delivery: delayed by --delay-ms' },
    delayMs: { kind: 'ms', flag: 'delay-ms', describe: 'delay of a delayed message' },
    disconnectRate: { kind: 'rate', flag: 'disconnect-rate', describe: 'per device session: broker cuts it' },
    brokerRestartAt: {
      kind: 'triggers',
      flag: 'broker-restart-at',
      alias: 'broker-restart-at-ms',
      describe: 'restart the embedded broker at these points',
    },
    slowSubscriber: {
      kind: 'switch',
      flag: 'slow-subscriber',
      describe: 'real broker: a slow extra subscriber overflows',
    },
    rogueDeviceAt: {
      kind: 'triggers',
      flag: 'rogue-device-at',
      describe:
        'a rogue client publishes as device 1 (a fake image, an ACK_OK) at these points; the broker must refuse it',
    },
  },
  server: {
    pipelineRestartAt: {
      kind: 'triggers',
      flag: 'pipeline-restart-at',
      alias: 'pipeline-restart-at-ms',
      describe: 'crash and restart the pipeline at these points',
    },
    twoInstances: {
      kind: 'switch',
      flag: 'two-instances',
      describe: 'two pipeline instances consume the same messages',
    },
    killConnectionsAt: {
      kind: 'triggers',
      flag: 'kill-connections-at',
      alias: 'kill-connections-at-ms',
      describe: 'pg_terminate_backend the pipeline at these points',
    },
    slowDatabaseMs: {
      kind: 'ms',
      flag: 'slow-database-ms',
      describe: 'extra latency on every pipeline database round trip',
    },
  },
  // The forwarder's own faults (harness/forwarder/): only a run with --forward-webhook has a forwarder to strike.
  webhook: {
    slowRate: {
      kind: 'rate',
      flag: 'webhook-slow-rate',
      describe:
        'per webhook delivery attempt: the request or the answer is held --webhook-slow-ms (past --webhook-timeout-ms: a timeout, then a retry while the first still runs)',
    },
    slowMs: { kind: 'ms', flag: 'webhook-slow-ms', describe: 'how long a slow webhook request or answer is held' },
    error5xxRate: {
      kind: 'rate',
      flag: 'webhook-5xx-rate',
      describe: "per webhook delivery attempt: the handler's answer becomes a 502 after it did its work (a retry)",
    },
    duplicateRate: {
      kind: 'rate',
      flag: 'webhook-duplicate-rate',
      describe: 'per forwarded message: delivered to the webhook twice at once',
    },
  },
  migration: {
    at: {
      kind: 'trigger',
      flag: 'migrate-at',
      alias: 'migrate-at-ms',
      // The syntax sits mid-sentence here, so this description carries it itself (the kind adds nothing).
      describe: `apply the cleanup + resume migrations at this point (${triggerSyntax}), then switch the pipeline to fixed (use with --stage base and a legacy --pipeline)`,
    },
  },
} as const satisfies { readonly [G in FaultGroup]: GroupDeclaration<FaultGroups[G]> };

export interface FaultField<G extends FaultGroup = FaultGroup> {
  readonly group: G;
  readonly key: keyof FaultGroups[G] & string;
  readonly kind: FaultFieldKind;
  readonly flag: string;
  readonly alias?: string;
  readonly describe: string;
}

export const faultGroups = Object.keys(declared) as readonly FaultGroup[];

/** One group's fields, in declaration order. */
export function faultFieldsOf<G extends FaultGroup>(group: G): readonly FaultField<G>[] {
  const fields = declared[group] as Readonly<Record<string, Omit<FaultField, 'group' | 'key'>>>;
  return Object.entries(fields).map(([key, field]) => ({ group, key: key as FaultField<G>['key'], ...field }));
}

/** Every field: device, network, server, then the migration. */
export const faultFields: readonly FaultField[] = faultGroups.flatMap((group) => faultFieldsOf(group));

export interface NumberRule {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/**
 * What a number of each kind may be in a scenario file and on the command line. The two surfaces had their own
 * bounds before the fields were declared once (a file's delay is at most 10 minutes and its outage at least one
 * wake; a flag asks only for a whole number ≥ 0); they are kept as they were, so no spec or command that worked
 * stops working. `flagMust` is the flag's error text.
 */
export const numberRules: Readonly<
  Record<NumericFaultKind, { readonly file: NumberRule; readonly flag: NumberRule; readonly flagMust: string }>
> = {
  rate: {
    file: { min: 0, max: 1, integer: false },
    flag: { min: 0, max: 1, integer: false },
    flagMust: 'a probability from 0 to 1',
  },
  ms: {
    file: { min: 0, max: 600_000, integer: true },
    flag: { min: 0, max: Infinity, integer: true },
    flagMust: 'a whole number ≥ 0',
  },
  count: {
    file: { min: 1, max: 100, integer: true },
    flag: { min: 0, max: Infinity, integer: true },
    flagMust: 'a whole number ≥ 0',
  },
};

export function isNumericKind(kind: FaultFieldKind): kind is NumericFaultKind {
  return kind === 'rate' || kind === 'count' || kind === 'ms';
}

/** Whether `value` is a finite number the rule allows. */
export function obeysRule(rule: NumberRule, value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= rule.min &&
    value <= rule.max &&
    (!rule.integer || Number.isInteger(value))
  );
}

/**
 * The faults at logical points (fault-points.ts): not a field of a group but a list of their own, `faults.points`
 * in a scenario file (each item the text spelling) and the repeatable `--fault-at` flag.
 */
export const faultPointsField = {
  flag: 'fault-at',
  fileKey: 'points',
  describe:
    "a fault at a logical point (repeatable): reboot:device=D,image=N,after-chunks=K (device D reboots right after chunks 0..K-1 of its image N are out) | counter-reset:device=D,wake=W (flash counter to 0 just before wake W) | migrate:in-flight=K (= --migrate-at K-in-flight) | crash-before-ack[:device=D,image=N] (the pipeline crashes between a completion commit and its ACK) | drop-puback:device=D,image=N[,chunk=C] (the broker drops the PUBACK of chunk C, or of the metadata; not with --broker-url). Devices are numbered 1..--devices in the order the fleet creates them, images by the device's capture (1..--images), wakes by the device's own count",
} as const;
