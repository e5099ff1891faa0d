// Failure bundles (ARCHITECTURE.md §6 "on failure print the exact command that reproduces it"): a directory with
// bundle.json (seed, scenario, the effective options without the world's URLs, the fault plan, what was expected,
// the verdicts with their offending rows) and history.ndjson (the run's History events). `loadBundle` turns it back
// into the same LiveRunOptions — same workload, same fault plan, same seed — for `npm run simulate -- --replay`.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { InvariantVerdict, Verdict } from '../checker/index.ts';
import { exitCodes } from './exit-codes.ts';
import type { HistoryEvent } from '../history/events.ts';
import { redactText } from '../world/redact.ts';
import { describeFaultPlan, faultMixes, type FaultPlan } from '../nemesis/fault-plan.ts';
import type { Expectation } from '../checker/expectation.ts';
import { liveRunDefaults, pipelineChoices, type LiveRunOptions } from './run-options.ts';
import { parseTrigger, triggerSyntax } from '../nemesis/trigger.ts';
import { exerciseNames } from '../checker/exercises.ts';

function isTrigger(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    parseTrigger(value);
    return true;
  } catch {
    return false;
  }
}

export const bundleFormat = 'camfleet-bundle/1';

/** The options a bundle keeps: everything but where the broker and database are (and where history went). */
export type BundledOptions = Omit<LiveRunOptions, 'brokerUrl' | 'databaseUrl' | 'historyPath'>;

export interface BundleFile {
  readonly format: typeof bundleFormat;
  readonly createdAt: string;
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
  return `npm run simulate -- --replay ${/[\s"'$`\\]/.test(shown) ? JSON.stringify(shown) : shown}`;
}

/** Where a failing run's bundle goes by default: `<reportDir>/bundles/<name>-seed<seed>`, else under .camfleet/. */
export function defaultBundleDir(name: string, seed: number, reportDir?: string): string {
  return join(reportDir ?? '.camfleet', 'bundles', `${name}-seed${seed}`);
}

export function bundledOptions(options: LiveRunOptions): BundledOptions {
  const { brokerUrl: _b, databaseUrl: _d, historyPath: _h, ...rest } = options;
  return rest;
}

/** Writes `<dir>/bundle.json` and `<dir>/history.ndjson`; returns the replay command to print. */
export async function writeBundle(dir: string, input: BundleInput): Promise<{ dir: string; replay: string }> {
  await mkdir(dir, { recursive: true });
  const replay = replayCommand(dir);
  const file: BundleFile = {
    format: bundleFormat,
    createdAt: new Date().toISOString(), // wall time: when the bundle was written, not a time in the run
    seed: input.options.seed,
    scenario: input.scenario ?? null,
    options: bundledOptions(input.options),
    faultPlan: { summary: describeFaultPlan(input.options.faults), plan: input.options.faults },
    expected: input.expected ?? 'pass',
    verdict: input.verdict,
    verdicts: input.verdicts,
    replay,
  };
  // Verdicts and history quote error messages, which may hold a URL with its password (the bundle keeps no URL).
  const secrets = [input.options.brokerUrl, input.options.databaseUrl];
  await writeFile(join(dir, 'bundle.json'), redactText(JSON.stringify(file, null, 2) + '\n', secrets));
  await writeFile(
    join(dir, 'history.ndjson'),
    input.history.map((e) => redactText(JSON.stringify(e), secrets) + '\n').join(''),
  );
  return { dir, replay };
}

/** Reads a bundle back as the options of the run it records, on the given (or the default) broker and database. */
export async function loadBundle(
  dir: string,
  world: { readonly brokerUrl?: string | undefined; readonly databaseUrl?: string | undefined } = {},
): Promise<LiveRunOptions> {
  const file = await readBundleFile(dir);
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
  if (record.format !== bundleFormat) bad('format', `"${bundleFormat}"`, record.format);
  const options = record.options as Record<string, unknown> | undefined;
  if (typeof options !== 'object' || options === null) return bad('options', 'an object', options);
  const defaults = liveRunDefaults as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(defaults)) {
    if (key === 'historyPath' || key === 'faults') continue;
    if (typeof options[key] !== typeof value) bad(`options.${key}`, `a ${typeof value}`, options[key]);
  }
  if (!Number.isInteger(options.seed)) bad('options.seed', 'a whole number', options.seed);
  if (!pipelineChoices.includes(options.pipeline as never))
    bad('options.pipeline', `one of ${pipelineChoices.join(', ')}`, options.pipeline);
  const faults = options.faults as Record<string, unknown> | undefined;
  if (typeof faults !== 'object' || faults === null) return bad('options.faults', 'an object', faults);
  for (const group of ['device', 'network', 'server'] as const) {
    const got = faults[group] as Record<string, unknown> | undefined;
    if (typeof got !== 'object' || got === null) bad(`options.faults.${group}`, 'an object', got);
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
  const exercises = options.exercises;
  if (
    exercises !== undefined &&
    !(Array.isArray(exercises) && exercises.every((e) => (exerciseNames as readonly unknown[]).includes(e)))
  )
    bad('options.exercises', `a list of ${exerciseNames.join(', ')}`, exercises);
  return data as BundleFile;
}
