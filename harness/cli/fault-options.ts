// Command-line switches for the nemesis: a mix (`--faults none|default|chaos`) and one flag per fault, each
// overriding the mix. Generated from the fault fields (harness/nemesis/fault-fields.ts), so a new fault gets its
// flag by being declared there.
import type { Options } from 'yargs';
import {
  faultFields,
  faultPointsField,
  isNumericKind,
  numberRules,
  obeysRule,
  type FaultField,
  type FaultGroup,
} from '../nemesis/fault-fields.ts';
import type { FaultOverrides, MigrationFault } from '../nemesis/fault-plan.ts';
import {
  faultPointSyntax,
  formatFaultPoint,
  parseFaultPoint,
  pointBoundsProblem,
  pointListProblem,
  unsupportedPointProblem,
  type FaultPoint,
  type PointBounds,
} from '../nemesis/fault-points.ts';
import { parseTrigger, triggerSyntax } from '../nemesis/trigger.ts';
import { parseNumberArgument } from './number-option.ts';

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
  };
  // The migration's flag has always come right after the mix in --help, before the flag of each fault.
  const migrationFirst = [
    ...faultFields.filter((f) => f.group === 'migration'),
    ...faultFields.filter((f) => f.group !== 'migration'),
  ];
  for (const f of migrationFirst) options[f.flag] = yargsOption(f);
  options[faultPointsField.flag] = {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: faultPointsField.describe,
    group: 'Faults:',
  };
  return options;
}

function yargsOption(f: FaultField): Options {
  const suffix = f.kind === 'triggers' ? ` (${triggerSyntax}; repeatable)` : f.kind === 'rate' ? ' (0–1)' : '';
  // Numbers are converted by numberOption's parser, so `abc` is reported as typed (yargs' own would say NaN);
  // triggers stay text, read by faultOverridesFrom.
  const shape: Options =
    f.kind === 'switch'
      ? { type: 'boolean' }
      : f.kind === 'triggers'
        ? { type: 'string', array: true, requiresArg: true }
        : f.kind === 'trigger'
          ? { type: 'string' }
          : { requiresArg: true, coerce: parseNumberArgument(f.flag) };
  return { ...shape, ...(f.alias ? { alias: f.alias } : {}), describe: f.describe + suffix, group: 'Faults:' };
}

/**
 * The overrides the given arguments ask for; throws with the flag's name on an out-of-range value. With `bounds`
 * (the fleet the options make), a fault point no run of that fleet can strike (device 9 of 3) is refused too, and so
 * is one this run's broker cannot strike (`pubacksOurs` false: a broker at a URL, no PUBACK of its to drop).
 */
export function faultOverridesFrom(
  args: Record<string, unknown>,
  bounds?: PointBounds,
  pubacksOurs = true,
): FaultOverrides {
  const groups: Record<FaultGroup, Record<string, unknown>> = {
    device: {},
    network: {},
    server: {},
    webhook: {},
    migration: {},
  };
  for (const f of faultFields) {
    const value = args[f.flag];
    if (value !== undefined) groups[f.group][f.key] = flagValue(f, value);
  }
  const migration = Object.keys(groups.migration).length > 0 ? (groups.migration as unknown as MigrationFault) : null;
  const points = faultPointsFrom(args[faultPointsField.flag], migration !== null, bounds, pubacksOurs);
  return {
    device: groups.device,
    network: groups.network,
    server: groups.server,
    webhook: groups.webhook,
    ...(migration !== null ? { migration } : {}),
    ...(points.length > 0 ? { points } : {}),
  };
}

/** `--fault-at` values, each parsed; an error names the flag and the item as typed. */
function faultPointsFrom(
  value: unknown,
  migrationGiven: boolean,
  bounds: PointBounds | undefined,
  pubacksOurs: boolean,
): FaultPoint[] {
  if (value === undefined) return [];
  const flag = `--${faultPointsField.flag}`;
  const points = (value as unknown[]).map(String).map((text) => {
    let point: FaultPoint;
    try {
      point = parseFaultPoint(text);
    } catch (error) {
      throw new Error(`${flag} ${JSON.stringify(text)}: ${(error as Error).message} (syntax: ${faultPointSyntax})`);
    }
    const outside = bounds === undefined ? undefined : pointBoundsProblem(point, bounds);
    if (outside !== undefined) throw new Error(`${flag} ${formatFaultPoint(point)}: can never strike: ${outside}`);
    return point;
  });
  const problem =
    pointListProblem(points, migrationGiven) ?? (bounds ? unsupportedPointProblem(points, pubacksOurs) : undefined);
  if (problem !== undefined) throw new Error(`${flag}: ${problem}`);
  return points;
}

/** The value a flag stands for, checked as its kind requires. */
function flagValue(f: FaultField, value: unknown): unknown {
  if (isNumericKind(f.kind)) {
    const rule = numberRules[f.kind];
    if (!obeysRule(rule.flag, value))
      throw new Error(`--${f.flag} must be ${rule.flagMust}, got ${JSON.stringify(value)}`);
    return value;
  }
  if (f.kind === 'triggers') {
    const triggers = (value as unknown[]).map(String);
    for (const t of triggers) checkTrigger(`--${f.flag}`, t);
    return triggers;
  }
  if (f.kind === 'trigger') {
    const text = typeof value === 'number' ? String(value) : (value as string);
    checkTrigger(`--${f.flag}`, text);
    return text;
  }
  return value; // a switch: yargs gives a boolean
}

function checkTrigger(flag: string, text: string): void {
  try {
    parseTrigger(text);
  } catch (error) {
    throw new Error(`${flag}: ${(error as Error).message}`);
  }
}
