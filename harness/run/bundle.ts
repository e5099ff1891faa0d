// Failure bundles (ARCHITECTURE.md §6 "on failure print the exact command that reproduces it"): a directory with
// bundle.json (seed, scenario, the effective options without the world's URLs, the fault plan, what was expected,
// the verdicts with their offending rows, the mode) and history.ndjson (the run's History events). `loadBundle`
// turns it back into the same LiveRunOptions — same workload, same fault plan, same seed — for
// `npm run simulate -- --replay`. A sim bundle also records its schedule digest and the sha256 of history.ndjson,
// so that its replay can prove it reproduced the run byte for byte (replay-check.ts).
import { commandFor } from './command-line.ts';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { firmwareProfiles, isFirmwareProfile } from '../../simulator/firmware/index.ts';
import type { InvariantVerdict, Verdict } from '../checker/index.ts';
import { exitCodes } from './exit-codes.ts';
import type { HistoryEvent } from '../history/events.ts';
import { redactText, redactUrl } from '../world/redact.ts';
import { describeFaultPlan, faultMixes, type FaultPlan } from '../nemesis/fault-plan.ts';
import type { Expectation } from '../checker/expectation.ts';
import { liveRunDefaults, pipelineChoices, type LiveRunOptions } from './run-options.ts';
import { parseTrigger, triggerSyntax } from '../nemesis/trigger.ts';
import { exerciseNames } from '../checker/exercises.ts';
import { runModes, type RunMode } from './run-mode.ts';
import { faultPointSyntax, isFaultPoint } from '../nemesis/fault-points.ts';

function isTrigger(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    parseTrigger(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Version 2 added `mode` (and `sim`). Bumped rather than extended because a version-1 reader ignores unknown
 * fields: it would replay a sim bundle live and never say so. Version 1 is still read, as a live bundle (sim
 * runs wrote no bundles then).
 */
export const bundleFormat = 'camfleet-bundle/2';
const bundleFormatV1 = 'camfleet-bundle/1';

/** What a sim run's bundle adds, so that its replay can be checked byte for byte. */
export interface SimRecord {
  /** SimDriveStats.scheduleDigest: the digest of every choice the seeded scheduler made. */
  readonly scheduleDigest: string;
  /** sha256 (hex) of the run's history as `--history` writes it (harness/history/history.ts): what a replay on any
   *  database gives back, whatever that world's password. */
  readonly historySha256: string;
  /** sha256 (hex) of history.ndjson beside bundle.json: the same text, with the passwords of the run's URLs also
   *  masked (the same hash unless one appeared in it). Tells a file changed after it was written. */
  readonly historyFileSha256: string;
}

/** The options a bundle keeps: everything but where the broker and database are (and where history went). */
export type BundledOptions = Omit<LiveRunOptions, 'brokerUrl' | 'databaseUrl' | 'historyPath'>;

export interface BundleFile {
  readonly format: typeof bundleFormat;
  readonly createdAt: string;
  /** The world the run went through; a version-1 bundle reads as `live`. */
  readonly mode: RunMode;
  /** Present exactly when `mode` is `sim`. */
  readonly sim?: SimRecord;
  readonly seed: number;
  readonly scenario: string | null;
  readonly options: BundledOptions;
  readonly faultPlan: { readonly summary: string; readonly plan: FaultPlan };
  readonly expected: Expectation;
  readonly verdict: Verdict;
  readonly verdicts: readonly InvariantVerdict[];
  readonly replay: string;
}

export interface BundleInput {
  readonly options: LiveRunOptions;
  readonly scenario?: string | undefined;
  /** Default `pass` (a `simulate` run). */
  readonly expected?: Expectation;
  readonly verdict: Verdict;
  readonly verdicts: readonly InvariantVerdict[];
  readonly history: readonly HistoryEvent[];
  /** Set for a sim run (its mode is then `sim`): the run's schedule digest. Absent: a live run. */
  readonly sim?: { readonly scheduleDigest: string } | undefined;
}

/** A bundle that cannot be read: exit code 2, the message names the file and the field. */
export class BundleError extends Error {
  readonly exitCode = exitCodes.usage;
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** The command that replays a bundle; a relative path when the bundle is under the current directory. */
export function replayCommand(dir: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, dir);
  const shown = rel && !rel.startsWith('..') ? rel : dir;
  return `${commandFor('simulate')} --replay ${/[\s"'$`\\]/.test(shown) ? JSON.stringify(shown) : shown}`;
}

/** Where a failing run's bundle goes by default: `<reportDir>/bundles/<name>-seed<seed>`, else under .camfleet/. */
export function defaultBundleDir(name: string, seed: number, reportDir?: string): string {
  return join(reportDir ?? '.camfleet', 'bundles', `${name}-seed${seed}`);
}

/** Fault fields younger than the bundle format: a bundle without one had it off. */
const laterFaultFields: Readonly<Record<'device' | 'network' | 'server' | 'webhook', readonly string[]>> = {
  device: [],
  network: ['rogueDeviceAt'],
  server: [],
  webhook: [],
};

export function bundledOptions(options: LiveRunOptions): BundledOptions {
  const { brokerUrl: _b, databaseUrl: _d, historyPath: _h, brokerCa: _c, ...rest } = options;
  // A webhook URL may carry a password: the bundle keeps it masked.
  const webhook = rest.webhook;
  if (webhook?.url === undefined) return rest;
  return { ...rest, webhook: { ...webhook, url: redactUrl(webhook.url) } };
}

/** history.ndjson's text: one event per line, as the run's `--history` file has it, with `secrets` redacted. */
export function historyNdjson(events: readonly HistoryEvent[], secrets: readonly (string | undefined)[] = []): string {
  return events.map((e) => redactText(JSON.stringify(e), secrets) + '\n').join('');
}

/** `value` with the passwords of `secrets` masked in every string in it (keys stay as they are). */
function redactValues<T>(value: T, secrets: readonly (string | undefined)[]): T {
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? redactText(v, secrets)
      : Array.isArray(v)
        ? v.map(walk)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return walk(value) as T;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Writes `<dir>/bundle.json` and `<dir>/history.ndjson`; returns the replay command to print. */
export async function writeBundle(dir: string, input: BundleInput): Promise<{ dir: string; replay: string }> {
  await mkdir(dir, { recursive: true });
  const replay = replayCommand(dir);
  // Verdicts and history quote error messages, which may hold a URL with its password (the bundle keeps no URL).
  const secrets = [input.options.brokerUrl, input.options.databaseUrl];
  const history = historyNdjson(input.history, secrets);
  // The run's own history text (URL passwords masked by pattern only), which a replay reproduces on any database.
  const runHistory = historyNdjson(input.history);
  const file: BundleFile = {
    format: bundleFormat,
    createdAt: new Date().toISOString(), // wall time: when the bundle was written, not a time in the run
    mode: input.sim === undefined ? 'live' : 'sim',
    ...(input.sim === undefined
      ? {}
      : {
          sim: {
            scheduleDigest: input.sim.scheduleDigest,
            historySha256: sha256Hex(runHistory),
            historyFileSha256: sha256Hex(history),
          },
        }),
    seed: input.options.seed,
    scenario: input.scenario ?? null,
    options: redactValues(bundledOptions(input.options), secrets),
    faultPlan: { summary: describeFaultPlan(input.options.faults), plan: input.options.faults },
    expected: input.expected ?? 'pass',
    verdict: input.verdict,
    verdicts: redactValues(input.verdicts, secrets),
    replay,
  };
  // The world's passwords are masked in the values that may quote one (verdicts quote driver errors, a command
  // line may carry one), not over the whole text: a password such as "camfleet" would otherwise turn the format
  // into "***-bundle/2" and the bundle could not be read back. URLs with a password are masked everywhere.
  await writeFile(join(dir, 'bundle.json'), redactText(JSON.stringify(file, null, 2) + '\n'));
  await writeFile(join(dir, 'history.ndjson'), history);
  return { dir, replay };
}

/** Reads a bundle back as the options of the run it records, on the given (or the default) broker and database. */
export async function loadBundle(
  dir: string,
  world: { readonly brokerUrl?: string | undefined; readonly databaseUrl?: string | undefined } = {},
): Promise<LiveRunOptions> {
  return bundleRunOptions(await readBundleFile(dir), world);
}

/** A read bundle's options, on the given (or the default) broker and database. */
export function bundleRunOptions(
  file: BundleFile,
  world: { readonly brokerUrl?: string | undefined; readonly databaseUrl?: string | undefined } = {},
): LiveRunOptions {
  return {
    ...file.options,
    brokerUrl: world.brokerUrl,
    databaseUrl: world.databaseUrl,
    historyPath: undefined,
  };
}

/** Reads and checks bundle.json (format, and every option against the type of its default); `dir` may name the file. */
export async function readBundleFile(dir: string): Promise<BundleFile> {
  const path = basename(dir) === 'bundle.json' ? dir : join(dir, 'bundle.json');
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new BundleError(`${path}: cannot read the bundle (${why})`);
  }
  const bad = (field: string, must: string, got: unknown): never => {
    throw new BundleError(`${path}: ${field} must be ${must}, got ${JSON.stringify(got) ?? 'nothing'}`);
  };
  if (typeof data !== 'object' || data === null) return bad('the file', 'a JSON object', data);
  const record = data as Record<string, unknown>;
  if (record.format !== bundleFormat && record.format !== bundleFormatV1)
    bad('format', `"${bundleFormat}" (or "${bundleFormatV1}")`, record.format);
  const options = record.options as Record<string, unknown> | undefined;
  if (typeof options !== 'object' || options === null) return bad('options', 'an object', options);
  // Firmware profiles came later: a bundle written before them ran v3.5.0.
  if (options.firmware === undefined) options.firmware = liveRunDefaults.firmware;
  // So did the "ACK names the capture" option: a bundle written before it ran without it.
  if (options.ackNamesCapture === undefined) options.ackNamesCapture = liveRunDefaults.ackNamesCapture;
  const defaults = liveRunDefaults as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(defaults)) {
    if (key === 'historyPath' || key === 'faults') continue;
    if (typeof options[key] !== typeof value) bad(`options.${key}`, `a ${typeof value}`, options[key]);
  }
  if (!Number.isInteger(options.seed)) bad('options.seed', 'a whole number', options.seed);
  if (!pipelineChoices.includes(options.pipeline as never))
    bad('options.pipeline', `one of ${pipelineChoices.join(', ')}`, options.pipeline);
  if (!isFirmwareProfile(options.firmware))
    bad('options.firmware', `one of ${firmwareProfiles.join(', ')}`, options.firmware);
  const faults = options.faults as Record<string, unknown> | undefined;
  if (typeof faults !== 'object' || faults === null) return bad('options.faults', 'an object', faults);
  // The webhook group came later: a bundle written before it had none (no forwarder, no faults of its).
  if (faults.webhook === undefined) faults.webhook = { ...faultMixes.none.webhook };
  for (const group of ['device', 'network', 'server', 'webhook'] as const) {
    const got = faults[group] as Record<string, unknown> | undefined;
    if (typeof got !== 'object' || got === null) bad(`options.faults.${group}`, 'an object', got);
    // A fault added after the bundle was written (rogueDeviceAt) is off in it.
    for (const key of laterFaultFields[group]) if (got !== undefined && !(key in got)) got[key] = [];
    for (const [key, value] of Object.entries(faultMixes.none[group]))
      if (Array.isArray(value) ? !Array.isArray(got?.[key]) : typeof got?.[key] !== typeof value)
        bad(`options.faults.${group}.${key}`, Array.isArray(value) ? 'a list' : `a ${typeof value}`, got?.[key]);
      else if (Array.isArray(value))
        for (const trigger of got?.[key] as unknown[])
          if (!isTrigger(trigger))
            bad(`options.faults.${group}.${key}`, `a list of triggers (${triggerSyntax})`, got?.[key]);
  }
  const migration = faults.migration as { at?: unknown } | null | undefined;
  if (migration !== null && !(typeof migration === 'object' && isTrigger(migration.at)))
    bad('options.faults.migration', `null or { "at": trigger } (${triggerSyntax})`, migration);
  // Faults at logical points came later: a bundle written before them has none.
  if (faults.points === undefined) faults.points = [];
  const points = faults.points;
  if (!Array.isArray(points)) bad('options.faults.points', 'a list of fault points', points);
  (points as unknown[]).forEach((point, i) => {
    if (!isFaultPoint(point) || point.kind === 'migrate')
      bad(
        `options.faults.points[${i}]`,
        `a fault point (${faultPointSyntax}; a migrate point is kept as migration)`,
        point,
      );
  });
  const exercises = options.exercises;
  if (
    exercises !== undefined &&
    !(Array.isArray(exercises) && exercises.every((e) => (exerciseNames as readonly unknown[]).includes(e)))
  )
    bad('options.exercises', `a list of ${exerciseNames.join(', ')}`, exercises);
  if (record.format === bundleFormatV1) return { ...(data as BundleFile), format: bundleFormat, mode: 'live' };
  if (!runModes.includes(record.mode as RunMode)) bad('mode', `one of ${runModes.join(', ')}`, record.mode);
  const sim = record.sim as Record<string, unknown> | undefined;
  if (record.mode === 'sim') {
    if (typeof sim !== 'object' || sim === null) return bad('sim', 'an object (the bundle of a sim run)', sim);
    if (typeof sim.scheduleDigest !== 'string' || !/^[0-9a-f]+$/.test(sim.scheduleDigest))
      bad('sim.scheduleDigest', 'a hex digest', sim.scheduleDigest);
    for (const key of ['historySha256', 'historyFileSha256'])
      if (typeof sim[key] !== 'string' || !/^[0-9a-f]{64}$/.test(sim[key]))
        bad(`sim.${key}`, 'a sha256 in hex', sim[key]);
  } else if (sim !== undefined) bad('sim', 'absent in a live bundle', sim);
  return data as BundleFile;
}
