// Command-line switches for the nemesis: a mix (`--faults none|default|chaos`) and one flag per fault, each
// overriding the mix. Generated from the fault plan's fields so a new fault gets its flag by being named here.
import type { Options } from 'yargs';
import type { DeviceFaults, FaultOverrides, NetworkFaults, ServerFaults } from '../nemesis/fault-plan.ts';
import { parseTrigger, triggerSyntax } from '../nemesis/trigger.ts';
import { parseNumberArgument } from './number-option.ts';

type Group = 'device' | 'network' | 'server';
interface FaultFlag {
  readonly flag: string;
  readonly group: Group;
  readonly key: keyof DeviceFaults | keyof NetworkFaults | keyof ServerFaults;
  readonly kind: 'rate' | 'count' | 'ms' | 'triggers' | 'switch';
  readonly describe: string;
  /** The flag's older name (ms only), still accepted. */
  readonly alias?: string;
}

export const faultFlags: readonly FaultFlag[] = [
  {
    flag: 'reboot-rate',
    group: 'device',
    key: 'rebootRate',
    kind: 'rate',
    describe: 'per transfer: device reboots mid-transfer',
  },
  {
    flag: 'torn-write-rate',
    group: 'device',
    key: 'tornWriteRate',
    kind: 'rate',
    describe: 'per capture: power loss tears the SD-queue write',
  },
  {
    flag: 'counter-reset-rate',
    group: 'device',
    key: 'counterResetRate',
    kind: 'rate',
    describe: 'per wake: flash counter resets (name reuse)',
  },
  {
    flag: 'double-send-rate',
    group: 'device',
    key: 'doubleSendRate',
    kind: 'rate',
    describe: 'per image: sent twice back to back',
  },
  {
    flag: 'interleaved-send-rate',
    group: 'device',
    key: 'interleavedSendRate',
    kind: 'rate',
    describe: 'per image: two interleaved transfers',
  },
  {
    flag: 'duplicate-metadata-rate',
    group: 'device',
    key: 'duplicateMetadataRate',
    kind: 'rate',
    describe: 'per image: metadata published twice',
  },
  {
    flag: 'wifi-outage-rate',
    group: 'device',
    key: 'wifiOutageRate',
    kind: 'rate',
    describe: 'per wake: Wi-Fi down for --wifi-outage-wakes wakes',
  },
  {
    flag: 'wifi-outage-wakes',
    group: 'device',
    key: 'wifiOutageWakes',
    kind: 'count',
    describe: 'length of a Wi-Fi outage, in wakes',
  },
  {
    flag: 'bad-clock-rate',
    group: 'device',
    key: 'badClockRate',
    kind: 'rate',
    describe: 'per wake: RTC reads 1970, unpadded timestamps',
  },
  {
    flag: 'dialect-drift-rate',
    group: 'device',
    key: 'dialectDriftRate',
    kind: 'rate',
    describe: 'per device: speaks the vendor-spec dialect',
  },
  {
    flag: 'corrupt-message-rate',
    group: 'device',
    key: 'corruptMessageRate',
    kind: 'rate',
    describe: 'per image: also sends one malformed message (bad base64, truncated JSON, wrong device_id)',
  },
  { flag: 'drop-rate', group: 'network', key: 'dropRate', kind: 'rate', describe: 'per delivery: message dropped' },
  {
    flag: 'duplicate-rate',
    group: 'network',
    key: 'duplicateRate',
    kind: 'rate',
    describe: 'per delivery: message delivered twice',
  },
  {
    flag: 'reorder-rate',
    group: 'network',
    key: 'reorderRate',
    kind: 'rate',
    describe: 'per delivery: held behind the next message',
  },
  {
    flag: 'delay-rate',
    group: 'network',
    key: 'delayRate',
    kind: 'rate',
    describe: 'per delivery: delayed by --delay-ms',
  },
  { flag: 'delay-ms', group: 'network', key: 'delayMs', kind: 'ms', describe: 'delay of a delayed message' },
  {
    flag: 'disconnect-rate',
    group: 'network',
    key: 'disconnectRate',
    kind: 'rate',
    describe: 'per device session: broker cuts it',
  },
  {
    flag: 'broker-restart-at',
    alias: 'broker-restart-at-ms',
    group: 'network',
    key: 'brokerRestartAt',
    kind: 'triggers',
    describe: 'restart the embedded broker at these points',
  },
  {
    flag: 'slow-subscriber',
    group: 'network',
    key: 'slowSubscriber',
    kind: 'switch',
    describe: 'real broker: a slow extra subscriber overflows',
  },
  {
    flag: 'pipeline-restart-at',
    alias: 'pipeline-restart-at-ms',
    group: 'server',
    key: 'pipelineRestartAt',
    kind: 'triggers',
    describe: 'crash and restart the pipeline at these points',
  },
  {
    flag: 'two-instances',
    group: 'server',
    key: 'twoInstances',
    kind: 'switch',
    describe: 'two pipeline instances consume the same messages',
  },
  {
    flag: 'kill-connections-at',
    alias: 'kill-connections-at-ms',
    group: 'server',
    key: 'killConnectionsAt',
    kind: 'triggers',
    describe: 'pg_terminate_backend the pipeline at these points',
  },
  {
    flag: 'slow-database-ms',
    group: 'server',
    key: 'slowDatabaseMs',
    kind: 'ms',
    describe: 'extra latency on every pipeline database round trip',
  },
];

export function faultYargsOptions(): Record<string, Options> {
  const options: Record<string, Options> = {
    faults: {
      type: 'string',
      choices: ['none', 'default', 'chaos'],
      default: 'default',
      describe:
        'fault mix: default = device restarts, double sends, name reuse, a few repeated and reordered messages and a pipeline restart at 40% of the chunks; chaos = all faults; none = a clean run. The flags below override it',
      group: 'Faults:',
    },
    'migrate-at': {
      type: 'string',
      alias: 'migrate-at-ms',
      describe: `apply the cleanup + resume migrations at this point (${triggerSyntax}), then switch the pipeline to fixed (use with --stage base and a legacy --pipeline)`,
      group: 'Faults:',
    },
  };
  for (const f of faultFlags) {
    const suffix = f.kind === 'triggers' ? ` (${triggerSyntax}; repeatable)` : f.kind === 'rate' ? ' (0–1)' : '';
    // Numbers are converted by numberOption's parser, so `abc` is reported as typed (yargs' own would say NaN);
    // triggers stay text, read by faultOverridesFrom.
    const parse = parseNumberArgument(f.flag);
    options[f.flag] = {
      ...(f.kind === 'switch'
        ? { type: 'boolean' }
        : f.kind === 'triggers'
          ? { type: 'string', array: true, requiresArg: true }
          : { requiresArg: true, coerce: parse }),
      ...(f.alias ? { alias: f.alias } : {}),
      describe: f.describe + suffix,
      group: 'Faults:',
    };
  }
  return options;
}

/** The overrides the given arguments ask for; throws with the flag's name on an out-of-range value. */
export function faultOverridesFrom(args: Record<string, unknown>): FaultOverrides {
  const groups: Record<Group, Record<string, unknown>> = { device: {}, network: {}, server: {} };
  for (const f of faultFlags) {
    const value = args[f.flag];
    if (value === undefined) continue;
    if (f.kind === 'rate' && !(typeof value === 'number' && value >= 0 && value <= 1)) {
      throw new Error(`--${f.flag} must be a probability from 0 to 1, got ${JSON.stringify(value)}`);
    }
    if (
      (f.kind === 'ms' || f.kind === 'count') &&
      !(typeof value === 'number' && Number.isInteger(value) && value >= 0)
    ) {
      throw new Error(`--${f.flag} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
    }
    if (f.kind === 'triggers') {
      const triggers = (value as unknown[]).map(String);
      for (const t of triggers) checkTrigger(`--${f.flag}`, t);
      groups[f.group][f.key] = triggers;
      continue;
    }
    groups[f.group][f.key] = value;
  }
  const given = args['migrate-at'];
  const migrateAt = given === undefined ? undefined : typeof given === 'number' ? String(given) : (given as string);
  if (migrateAt !== undefined) checkTrigger('--migrate-at', migrateAt);
  return {
    device: groups.device,
    network: groups.network,
    server: groups.server,
    ...(migrateAt !== undefined ? { migration: { at: migrateAt } } : {}),
  };
}

function checkTrigger(flag: string, text: string): void {
  try {
    parseTrigger(text);
  } catch (error) {
    throw new Error(`${flag}: ${(error as Error).message}`);
  }
}
