// A scenario spec (ARCHITECTURE.md §1 "scenario spec (data)"): a named, declarative description of one run —
// fleet, pipeline profile, schema stage, fault plan, time budget and the verdict it must produce. Specs are JSON
// files in scenarios/catalogue/, validated on load; every error names the file and the field that is wrong.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dialect } from '../simulator/protocol/index.ts';
import { firmwareProfiles, type FirmwareProfile } from '../simulator/firmware/index.ts';
import type { InvariantId } from '../harness/checker/index.ts';
import { invariantIds } from '../harness/checker/index.ts';
import type { Expectation } from '../harness/checker/expectation.ts';
import { exitCodes } from '../harness/run/exit-codes.ts';
import type {
  DeviceFaults,
  FaultMix,
  MigrationFault,
  NetworkFaults,
  ServerFaults,
  WebhookFaults,
} from '../harness/nemesis/fault-plan.ts';
import { faultMixes } from '../harness/nemesis/fault-plan.ts';
import { parseTrigger, triggerSyntax } from '../harness/nemesis/trigger.ts';
import {
  faultFieldsOf,
  faultGroups,
  isNumericKind,
  numberRules,
  type FaultField,
  type FaultGroup,
} from '../harness/nemesis/fault-fields.ts';
import { exerciseNames, type ExerciseName } from '../harness/checker/exercises.ts';
import {
  faultPointSyntax,
  formatFaultPoint,
  parseFaultPoint,
  pointBoundsProblem,
  pointListProblem,
  type FaultPoint,
} from '../harness/nemesis/fault-points.ts';
import type { PipelineChoice, RunStage } from '../harness/run/run-options.ts';
import { liveRunDefaults, pipelineChoices } from '../harness/run/run-options.ts';
import { runModes, type RunMode } from '../harness/run/run-mode.ts';

export interface ScenarioFleet {
  readonly devices: number;
  /** Images each device captures (one per wake). */
  readonly images: number;
  readonly imageKb?: number;
  readonly chunkBytes?: number;
  readonly dialect?: Dialect;
  readonly qos?: 0 | 1;
  readonly wakesMax?: number;
  /** Firmware silence timeout before a re-send (default liveRunDefaults.ackTimeoutMs); lossy scenarios shorten it. */
  readonly ackTimeoutMs?: number;
}

export interface ScenarioFaults {
  readonly mix: FaultMix;
  readonly device?: Partial<DeviceFaults>;
  readonly network?: Partial<NetworkFaults>;
  readonly server?: Partial<ServerFaults>;
  /** The webhook forwarder's own faults; a scenario with them forwards (`webhook`). */
  readonly webhook?: Partial<WebhookFaults>;
  readonly migration?: MigrationFault | null;
  /** Faults at logical points (harness/nemesis/fault-points.ts), each written as the `--fault-at` flag takes it. */
  readonly points?: readonly FaultPoint[];
}

/**
 * Things an operator does by hand during the run, outside the pipeline (seed guide, "Why Duplicates Exist" 4:
 * manual data fixes). Needs the run to hand the scenario its database once the fleet starts (see run-scenario.ts).
 */
export interface ScenarioOperator {
  /** At each trigger ("40%": fault-plan.ts) re-insert a copy of every complete `device_images` row, one INSERT
   *  per row, the way the seed guide's restore statement copies backup rows back. */
  readonly reinsertCompleteRowsAt: readonly string[];
}

export interface Scenario {
  readonly name: string;
  /** One line. */
  readonly purpose: string;
  readonly fleet: ScenarioFleet;
  readonly pipeline: PipelineChoice;
  /** The devices' firmware (simulator/firmware/profile.ts): a device bug to catch. Absent: fw350, the faithful
   *  v3.5.0. */
  readonly firmware?: FirmwareProfile;
  /** The opt-in protocol option "ACK names the capture" on both sides (LiveRunOptions.ackNamesCapture). Absent:
   *  false, what v3.5.0 speaks. */
  readonly ackNamesCapture?: boolean;
  readonly stage: RunStage;
  readonly faults: ScenarioFaults;
  readonly timeBudgetS: number;
  readonly expect: Expectation;
  /** The seed a plain `scenario run` uses (a failing seed turned regression scenario keeps it). Default 1. */
  readonly seed?: number;
  readonly operator?: ScenarioOperator;
  /**
   * What the run must have done for its verdict to mean anything (checker/exercises.ts), e.g.
   * `["pipeline_restart_mid_transfer", "resume_after_restart"]`. Not seen in the history → E1 unknown (exit 3).
   */
  readonly exercises: readonly ExerciseName[];
  /**
   * The worlds the scenario runs in (default both). A scenario limited to one says why in `liveOnlyBecause` /
   * `simOnlyBecause` — for what one world cannot have by nature (a real broker's queue overflowing under a slow
   * subscriber is live-only), never for a feature sim merely lacks today: sim refuses those runs itself (exit 2).
   */
  readonly modes?: readonly RunMode[];
  readonly liveOnlyBecause?: string;
  readonly simOnlyBecause?: string;
  /** Forward every device message to a webhook handler too (harness/forwarder/): the command that starts it. */
  readonly webhook?: ScenarioWebhook;
}

/** A scenario's webhook handler (`--webhook-cmd`): started from the repository root with DATABASE_URL and PORT. */
export interface ScenarioWebhook {
  readonly cmd: string;
  /** The forwarder's timeout per attempt (default the original's 5000 ms). */
  readonly timeoutMs?: number;
  /** Retries of a timeout, a network error or a 5xx (default 3). */
  readonly retries?: number;
}

/** Why `scenario` does not run in `mode` (its spec's reason), or undefined when it does. */
export function scenarioNotInMode(scenario: Scenario, mode: RunMode): string | undefined {
  if (scenario.modes === undefined || scenario.modes.includes(mode)) return undefined;
  return (mode === 'sim' ? scenario.liveOnlyBecause : scenario.simOnlyBecause) ?? `modes: ${scenario.modes.join(', ')}`;
}

/** A spec that does not validate: exit code 2 (usage), the message names file and field. */
export class ScenarioSpecError extends Error {
  readonly exitCode = exitCodes.usage;
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioSpecError';
  }
}

export const catalogueDir = fileURLToPath(new URL('./catalogue/', import.meta.url));
/** Counterexamples `npm run explore` found while camfleet was built, each kept as a sim-mode regression. */
export const regressionsDir = fileURLToPath(new URL('./regressions/', import.meta.url));
/** The repository root: a scenario's webhook command runs there. */
export const repoRoot = fileURLToPath(new URL('../', import.meta.url));

type Json = unknown;

class Reader {
  constructor(readonly source: string) {}

  fail(path: string, must: string, got: Json): never {
    throw new ScenarioSpecError(`${this.source}: ${path || 'the spec'} must be ${must}, got ${show(got)}`);
  }

  object(path: string, value: Json, fields: readonly string[], required: readonly string[]): Record<string, Json> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'an object', value);
    const record = value as Record<string, Json>;
    for (const key of Object.keys(record))
      if (!fields.includes(key))
        throw new ScenarioSpecError(
          `${this.source}: ${path ? `${path}.` : ''}${key} is not a field here (fields: ${fields.join(', ')})`,
        );
    for (const key of required)
      if (record[key] === undefined)
        throw new ScenarioSpecError(`${this.source}: ${path ? `${path}.` : ''}${key} is missing`);
    return record;
  }

  string(path: string, value: Json, pattern?: RegExp, must = 'a non-empty string'): string {
    if (typeof value !== 'string' || value.trim() === '' || (pattern && !pattern.test(value)))
      this.fail(path, must, value);
    return value;
  }

  choice<T extends string | number>(path: string, value: Json, choices: readonly T[]): T {
    if (!choices.includes(value as T)) this.fail(path, `one of ${choices.map((c) => show(c)).join(', ')}`, value);
    return value as T;
  }

  number(path: string, value: Json, min: number, max: number, integer = false): number {
    const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
    if (!ok || (integer && !Number.isInteger(value)))
      this.fail(path, `${integer ? 'a whole number' : 'a number'} between ${min} and ${max}`, value);
    return value;
  }

  boolean(path: string, value: Json): boolean {
    if (typeof value !== 'boolean') this.fail(path, 'true or false', value);
    return value;
  }

  trigger(path: string, value: Json): string {
    if (typeof value === 'string') {
      try {
        parseTrigger(value);
        return value;
      } catch {
        // falls through to the message naming the syntax
      }
    }
    return this.fail(path, `a fault trigger: ${triggerSyntax}`, value);
  }

  triggers(path: string, value: Json): string[] {
    if (!Array.isArray(value)) this.fail(path, 'a list of fault triggers (e.g. ["40%"])', value);
    return (value as Json[]).map((v, i) => this.trigger(`${path}[${i}]`, v));
  }
}

function show(value: Json): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

type FaultValue = number | boolean | string | readonly string[];

/**
 * One group of a scenario's faults: only the fields fault-fields.ts declares for it, each checked by its kind.
 * The rate groups are partial (laid over the mix); the migration needs all of its fields.
 */
function faultGroup<G extends FaultGroup>(
  r: Reader,
  path: string,
  value: Json,
  group: G,
): Partial<Record<FaultField<G>['key'], FaultValue>> {
  const fields = faultFieldsOf(group);
  const keys = fields.map((f) => f.key);
  const record = r.object(path, value, keys, group === 'migration' ? keys : []);
  const out: Partial<Record<FaultField<G>['key'], FaultValue>> = {};
  for (const { key, kind } of fields) {
    const v = record[key];
    if (v === undefined) continue;
    const at = `${path}.${key}`;
    if (isNumericKind(kind)) {
      const { min, max, integer } = numberRules[kind].file;
      out[key] = r.number(at, v, min, max, integer);
    } else
      out[key] = kind === 'triggers' ? r.triggers(at, v) : kind === 'trigger' ? r.trigger(at, v) : r.boolean(at, v);
  }
  return out;
}

/** A scenario's name: kebab-case, as its file is named. */
export const SCENARIO_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const fleetFields = [
  'devices',
  'images',
  'imageKb',
  'chunkBytes',
  'dialect',
  'qos',
  'wakesMax',
  'ackTimeoutMs',
] as const;
const topFields = [
  'name',
  'purpose',
  'fleet',
  'pipeline',
  'firmware',
  'ackNamesCapture',
  'stage',
  'faults',
  'timeBudgetS',
  'expect',
  'seed',
  'operator',
  'exercises',
  'modes',
  'liveOnlyBecause',
  'simOnlyBecause',
  'webhook',
] as const;
const requiredTop = ['name', 'purpose', 'fleet', 'pipeline', 'stage', 'faults', 'timeBudgetS', 'expect'] as const;

/** Validates parsed JSON as a scenario; `source` (a path) starts every error message. */
export function validateScenario(data: unknown, source: string): Scenario {
  const r = new Reader(source);
  const top = r.object('', data, topFields, requiredTop);
  const name = r.string('name', top.name, SCENARIO_NAME, 'a kebab-case name (a-z, 0-9, single dashes)');
  const purpose = r.string('purpose', top.purpose);
  if (purpose.includes('\n')) r.fail('purpose', 'one line', purpose);

  const f = r.object('fleet', top.fleet, fleetFields, ['devices', 'images']);
  const fleet: { -readonly [K in keyof ScenarioFleet]: ScenarioFleet[K] } = {
    devices: r.number('fleet.devices', f.devices, 1, 20_000, true),
    images: r.number('fleet.images', f.images, 1, 100, true),
  };
  if (f.imageKb !== undefined) fleet.imageKb = r.number('fleet.imageKb', f.imageKb, 1, 10_000);
  if (f.chunkBytes !== undefined) fleet.chunkBytes = r.number('fleet.chunkBytes', f.chunkBytes, 1, 16_384, true);
  if (f.dialect !== undefined) fleet.dialect = r.choice<Dialect>('fleet.dialect', f.dialect, ['fw350', 'spec']);
  if (f.qos !== undefined) fleet.qos = r.choice<0 | 1>('fleet.qos', f.qos, [0, 1]);
  if (f.wakesMax !== undefined) fleet.wakesMax = r.number('fleet.wakesMax', f.wakesMax, 1, 1_000, true);
  if (f.ackTimeoutMs !== undefined)
    fleet.ackTimeoutMs = r.number('fleet.ackTimeoutMs', f.ackTimeoutMs, 100, 600_000, true);
  const wakesMax = fleet.wakesMax ?? liveRunDefaults.wakesMax;
  if (fleet.images > wakesMax)
    r.fail('fleet.images', `at most fleet.wakesMax (${wakesMax}; one image per wake)`, fleet.images);

  const pipeline = r.choice<PipelineChoice>('pipeline', top.pipeline, pipelineChoices);
  const stage = r.choice<RunStage>('stage', top.stage, ['base', 'cleanup', 'resume']);

  const fa = r.object('faults', top.faults, ['mix', ...faultGroups, 'points'], ['mix']);
  const faults: { -readonly [K in keyof ScenarioFaults]: ScenarioFaults[K] } = {
    mix: r.choice<FaultMix>('faults.mix', fa.mix, Object.keys(faultMixes) as FaultMix[]),
  };
  if (fa.device !== undefined)
    faults.device = faultGroup(r, 'faults.device', fa.device, 'device') as Partial<DeviceFaults>;
  if (fa.network !== undefined)
    faults.network = faultGroup(r, 'faults.network', fa.network, 'network') as Partial<NetworkFaults>;
  if (fa.server !== undefined)
    faults.server = faultGroup(r, 'faults.server', fa.server, 'server') as Partial<ServerFaults>;
  if (fa.webhook !== undefined)
    faults.webhook = faultGroup(r, 'faults.webhook', fa.webhook, 'webhook') as Partial<WebhookFaults>;
  if (fa.migration !== undefined) {
    if (fa.migration === null) faults.migration = null;
    else {
      faults.migration = faultGroup(r, 'faults.migration', fa.migration, 'migration') as MigrationFault;
      // fault-plan.ts: the migration is only meaningful on the base stage (it applies cleanup and resume).
      if (stage !== 'base') r.fail('stage', '"base" when faults.migration is set', stage);
    }
  }
  if (fa.points !== undefined) {
    faults.points = faultPoints(r, fa.points, fleet, faults.migration !== undefined && faults.migration !== null);
    if (faults.points.some((point) => point.kind === 'migrate') && stage !== 'base')
      r.fail('stage', '"base" when faults.points has a migrate point', stage);
  }

  const timeBudgetS = r.number('timeBudgetS', top.timeBudgetS, 1, 3_600);
  const expect = expectation(r, top.expect);
  const scenario: { -readonly [K in keyof Scenario]: Scenario[K] } = {
    name,
    purpose,
    fleet,
    pipeline,
    stage,
    faults,
    timeBudgetS,
    expect,
    exercises: exercises(r, top.exercises),
  };
  if (top.firmware !== undefined)
    scenario.firmware = r.choice<FirmwareProfile>('firmware', top.firmware, firmwareProfiles);
  if (top.ackNamesCapture !== undefined) scenario.ackNamesCapture = r.boolean('ackNamesCapture', top.ackNamesCapture);
  Object.assign(scenario, modes(r, top));
  if (top.seed !== undefined) scenario.seed = r.number('seed', top.seed, 0, 2 ** 32 - 1, true);
  if (top.webhook !== undefined) {
    const w = r.object('webhook', top.webhook, ['cmd', 'timeoutMs', 'retries'], ['cmd']);
    const cmd = r.string('webhook.cmd', w.cmd);
    if (cmd.trim() === '' || cmd.includes('\n')) r.fail('webhook.cmd', 'a one-line shell command', cmd);
    scenario.webhook = {
      cmd,
      ...(w.timeoutMs === undefined ? {} : { timeoutMs: r.number('webhook.timeoutMs', w.timeoutMs, 1, 600_000, true) }),
      ...(w.retries === undefined ? {} : { retries: r.number('webhook.retries', w.retries, 0, 20, true) }),
    };
    // The forwarder posts to a real HTTP handler: sim's one process on a virtual clock has none.
    if (scenario.modes === undefined || scenario.modes.join() !== 'live')
      r.fail('modes', '["live"] when webhook is set (an HTTP handler is outside a sim run)', top.modes);
  }
  if (faults.webhook !== undefined && top.webhook === undefined)
    r.fail('faults.webhook', 'given only with webhook (nothing is forwarded to strike)', fa.webhook);
  if (top.operator !== undefined) {
    const o = r.object('operator', top.operator, ['reinsertCompleteRowsAt'], ['reinsertCompleteRowsAt']);
    scenario.operator = {
      reinsertCompleteRowsAt: r.triggers('operator.reinsertCompleteRowsAt', o.reinsertCompleteRowsAt),
    };
  }
  return scenario;
}

/** `modes` and the reason a single-mode scenario gives: `"modes": ["live"]` needs `liveOnlyBecause`, and the other way. */
function modes(r: Reader, top: Record<string, Json>): Pick<Scenario, 'modes' | 'liveOnlyBecause' | 'simOnlyBecause'> {
  const out: { -readonly [K in 'modes' | 'liveOnlyBecause' | 'simOnlyBecause']?: Scenario[K] } = {};
  if (top.modes !== undefined) {
    if (!Array.isArray(top.modes) || top.modes.length === 0)
      r.fail('modes', `a non-empty list of ${runModes.map((m) => `"${m}"`).join(', ')}`, top.modes);
    const list = (top.modes as Json[]).map((m, i) => r.choice<RunMode>(`modes[${i}]`, m, runModes));
    if (new Set(list).size !== list.length) r.fail('modes', 'a list without repeats', top.modes);
    out.modes = list;
  }
  const only = out.modes?.length === 1 ? out.modes[0] : undefined;
  for (const mode of runModes) {
    const key = mode === 'live' ? 'liveOnlyBecause' : 'simOnlyBecause';
    const why = top[key];
    if (why === undefined) {
      if (only === mode) r.fail(key, `the reason the scenario runs in ${mode} only (with "modes": ["${mode}"])`, why);
      continue;
    }
    if (only !== mode) r.fail(key, `given only with "modes": ["${mode}"] (modes: ${show(top.modes)})`, why);
    const text = r.string(key, why);
    if (text.includes('\n')) r.fail(key, 'one line', text);
    out[key] = text;
  }
  return out;
}

/** `faults.points`: each item the `--fault-at` spelling, naming a device and image the fleet has. */
function faultPoints(r: Reader, value: Json, fleet: ScenarioFleet, migrationGiven: boolean): FaultPoint[] {
  if (!Array.isArray(value)) r.fail('faults.points', `a list of fault points (${faultPointSyntax})`, value);
  const points = (value as Json[]).map((item, i) => {
    const at = `faults.points[${i}]`;
    if (typeof item !== 'string') r.fail(at, `a fault point (${faultPointSyntax})`, item);
    let point: FaultPoint;
    try {
      point = parseFaultPoint(item);
    } catch (error) {
      throw new ScenarioSpecError(`${r.source}: ${at} ${show(item)}: ${(error as Error).message}`);
    }
    const outside = pointBoundsProblem(point, { devices: fleet.devices, imagesPerDevice: fleet.images });
    if (outside !== undefined)
      throw new ScenarioSpecError(`${r.source}: ${at} ${formatFaultPoint(point)} can never strike: ${outside}`);
    return point;
  });
  const problem = pointListProblem(points, migrationGiven);
  if (problem !== undefined) throw new ScenarioSpecError(`${r.source}: faults.points: ${problem}`);
  return points;
}

function exercises(r: Reader, value: Json): ExerciseName[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) r.fail('exercises', `a list of exercises (${exerciseNames.join(', ')})`, value);
  const list = (value as Json[]).map((v, i) => r.choice<ExerciseName>(`exercises[${i}]`, v, exerciseNames));
  if (new Set(list).size !== list.length) r.fail('exercises', 'a list without repeats', value);
  return list;
}

function expectation(r: Reader, value: Json): Expectation {
  if (value === 'pass') return 'pass';
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    r.fail('expect', '"pass" or { "fail": ["I1", …] }', value);
  const e = r.object('expect', value, ['fail', 'mayFail'], ['fail']);
  const ids = (path: string, v: Json, nonEmpty: boolean): InvariantId[] => {
    if (!Array.isArray(v) || (nonEmpty && v.length === 0))
      r.fail(path, `a ${nonEmpty ? 'non-empty ' : ''}list of invariant ids (${invariantIds.join(', ')})`, v);
    const list = (v as Json[]).map((id, i) => r.choice<InvariantId>(`${path}[${i}]`, id, invariantIds));
    if (new Set(list).size !== list.length) r.fail(path, 'a list without repeats', v);
    return list;
  };
  const fail = ids('expect.fail', e.fail, true);
  if (e.mayFail === undefined) return { fail };
  const mayFail = ids('expect.mayFail', e.mayFail, false);
  const both = mayFail.find((id) => fail.includes(id));
  if (both) r.fail('expect.mayFail', `free of ids already in expect.fail (${both})`, e.mayFail);
  return { fail, mayFail };
}

/** Reads and validates one spec file; its `name` must match the file name. */
/**
 * One spec file. In the catalogue a scenario's name is its file name; a file given by path (`run --file`) may be
 * a renamed copy, so `requireFileName: false` lets its name differ.
 */
export function loadScenario(path: string, { requireFileName = true }: { requireFileName?: boolean } = {}): Scenario {
  const source = relative(repoRoot, path) || path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScenarioSpecError(`${source}: cannot read (${error instanceof Error ? error.message : String(error)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ScenarioSpecError(
      `${source}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const scenario = validateScenario(data, source);
  const fileName = basename(path, '.json');
  if (requireFileName && scenario.name !== fileName)
    throw new ScenarioSpecError(`${source}: name must match the file name "${fileName}", got ${show(scenario.name)}`);
  return scenario;
}

/** Every spec in scenarios/catalogue/ (or `dir`), sorted by name; throws on the first invalid one. */
export function loadCatalogue(dir: string = catalogueDir): Scenario[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => loadScenario(join(dir, file)));
}

/** A catalogue file that did not load: its would-be scenario name (the file name) and the one-line reason. */
export interface InvalidSpec {
  readonly name: string;
  readonly error: string;
}

/**
 * The catalogue as the CLI reads it: one invalid file is reported with its reason and does not hide the others
 * (the test suite uses loadCatalogue, which refuses it outright).
 */
export function readCatalogue(dir: string = catalogueDir): { scenarios: Scenario[]; invalid: InvalidSpec[] } {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.json'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : String(error);
    throw new ScenarioSpecError(`${dir}: cannot read the catalogue (${why})`);
  }
  const scenarios: Scenario[] = [];
  const invalid: InvalidSpec[] = [];
  for (const file of files.sort()) {
    try {
      scenarios.push(loadScenario(join(dir, file)));
    } catch (error) {
      if (!(error instanceof ScenarioSpecError)) throw error;
      invalid.push({ name: basename(file, '.json'), error: error.message });
    }
  }
  return { scenarios, invalid };
}
