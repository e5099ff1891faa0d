// A VOPR-style seed sweep (issue 8 "Commands"): the same sim run for every seed of a list, one after another in
// this process, each judged alone. What a sweep shares between runs is only what cannot reach a run's history —
// the database server (started once, not per run), a database per schema stage, reset between runs
// (sweep-database.ts), and the gate's connections to it (world/sim/gate-source.ts) — so seed k in a sweep gives the same schedule and history as
// seed k alone (sweep.test.ts checks it).
import type { Verdict } from '../checker/verdict.ts';
import { openDatabaseServer } from '../db/server.ts';
import { exitCodes } from './exit-codes.ts';
import type { LiveRunOptions } from './run-options.ts';
import { RunWorldError } from './run-world.ts';
import { runSim, type SimRunResult } from './sim-run.ts';
import { SweepDatabases } from './sweep-database.ts';
import { ReusedGates } from '../world/sim/gate-source.ts';

/** Seeds run at once by default: both cores busy (a run waits on Postgres about two thirds of its time), and
 *  the most the sweep gained from on this 2-core machine. */
export const SWEEP_JOBS_DEFAULT = 4;
/** More lanes than this only add databases and connections. */
export const SWEEP_JOBS_MAX = 16;

/** Seeds a sweep may list at most: more is a typo (`1..5000000`), not a sweep one process finishes. */
export const SWEEP_SEEDS_MAX = 1_000_000;

/**
 * `A..B` (inclusive) or a comma list `1,5,9` (the two may mix: `1..3,9`), as whole non-negative numbers; in order,
 * duplicates dropped. Throws a message for the command line on anything else.
 */
export function parseSeedList(text: string): number[] {
  const seeds: number[] = [];
  const seen = new Set<number>();
  const add = (seed: number) => {
    if (seen.has(seed)) return;
    seen.add(seed);
    seeds.push(seed);
  };
  const whole = (part: string): number => {
    if (!/^\d+$/.test(part)) throw new Error(`--seeds: "${part}" is not a whole number (use A..B or 1,5,9)`);
    const n = Number(part);
    if (!Number.isSafeInteger(n)) throw new Error(`--seeds: ${part} is too large`);
    return n;
  };
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new Error(`--seeds: empty item in "${text}" (use A..B or 1,5,9)`);
  for (const part of parts) {
    const range = /^(.*)\.\.(.*)$/.exec(part);
    if (range === null) {
      add(whole(part));
      continue;
    }
    const from = whole(range[1] ?? '');
    const to = whole(range[2] ?? '');
    if (to < from) throw new Error(`--seeds: range ${part} runs backwards`);
    if (to - from + 1 + seeds.length > SWEEP_SEEDS_MAX)
      throw new Error(`--seeds: more than ${SWEEP_SEEDS_MAX} seeds in "${text}"`);
    for (let seed = from; seed <= to; seed++) add(seed);
  }
  return seeds;
}

/** One seed's outcome as the sweep reports it. */
export interface SweepRun {
  readonly seed: number;
  readonly verdict: Verdict;
  /** The invariants that did not pass (`I1`, …); for a run that threw, none. */
  readonly invariants: readonly string[];
  /** The first failing (else unknown) invariant's first offending item or summary, or the error of a run that
   *  threw: one line. */
  readonly detail: string;
  readonly scheduleDigest: string;
  readonly wallMs: number;
}

export interface SweepResult {
  readonly runs: readonly SweepRun[];
  readonly failed: number;
  readonly unknown: number;
  readonly wallMs: number;
  /** Runs per wall second over the whole sweep (server start included). */
  readonly runsPerS: number;
}

export interface SweepHooks {
  /** After each run, in seed order. */
  readonly onRun?: (run: SweepRun, index: number) => void;
  /** Checked before each run: a stopped sweep reports the runs it did. */
  readonly signal?: AbortSignal;
  /** Where to write a seed's NDJSON history (tests compare it with the same seed run alone); default none. */
  readonly historyPath?: (seed: number) => string;
  /** Seeds run at once, each on a database of its own (default 1). A run's history does not depend on it. */
  readonly jobs?: number;
}

const DETAIL_CHARS_MAX = 160;

/** Runs `options` once per seed (in sim mode), on one database server for the whole sweep. */
export async function runSweep(
  options: LiveRunOptions,
  seeds: readonly number[],
  hooks: SweepHooks = {},
): Promise<SweepResult> {
  const startedMs = Date.now(); // wall time: the sweep's rate is about this machine
  // The embedded server starts once (about 1.2 s of a run's 2 s alone), the run database once per stage.
  const server = await openDatabaseServer({ databaseUrl: options.databaseUrl });
  const jobs = Math.max(1, Math.min(hooks.jobs ?? 1, seeds.length));
  // One run database per lane (and stage), and its gate: lanes share the server, never a database.
  const lanes = Array.from({ length: jobs }, () => ({
    databases: new SweepDatabases(server.url),
    gates: new ReusedGates(),
  }));
  const done: (SweepRun | undefined)[] = [];
  const runs: SweepRun[] = [];
  let next = 0;
  const lane = async ({ databases, gates }: (typeof lanes)[number]) => {
    while (next < seeds.length && !hooks.signal?.aborted) {
      const index = next++;
      const seed = seeds[index] as number;
      done[index] = await sweepOne(
        { ...options, seed, databaseUrl: server.url, historyPath: hooks.historyPath?.(seed) },
        databases,
        gates,
      );
      // Reported in seed order: each run once every run before it is reported.
      for (let run = done[runs.length]; run !== undefined; run = done[runs.length]) {
        runs.push(run);
        hooks.onRun?.(run, runs.length - 1);
      }
    }
  };
  try {
    await Promise.all(lanes.map(lane));
  } finally {
    for (const { databases, gates } of lanes) {
      await gates.close();
      await databases.close();
    }
    await server.stop();
  }
  const wallMs = Date.now() - startedMs;
  return {
    runs,
    failed: runs.filter((r) => r.verdict === 'fail').length,
    unknown: runs.filter((r) => r.verdict === 'unknown').length,
    wallMs,
    runsPerS: (runs.length * 1000) / Math.max(1, wallMs),
  };
}

async function sweepOne(options: LiveRunOptions, databases: SweepDatabases, gates: ReusedGates): Promise<SweepRun> {
  const startedMs = Date.now();
  let result: SimRunResult;
  try {
    result = await runSim(options, {}, { openDatabase: databases.openerFor(options), gates });
  } catch (error) {
    // What the command line or the environment got wrong is wrong for every seed: the sweep stops (exit 2).
    if (error instanceof RunWorldError || (error as { exitCode?: unknown }).exitCode === exitCodes.usage) throw error;
    // Anything else (the scheduler's step limit, a stall) is this seed's finding, not a verdict: unknown.
    const message = error instanceof Error ? error.message : String(error);
    return {
      seed: options.seed,
      verdict: 'unknown',
      invariants: [],
      detail: oneLine(message),
      scheduleDigest: '',
      wallMs: Date.now() - startedMs,
    };
  }
  const notPassing = result.verdicts.filter((v) => v.verdict !== 'pass');
  const first = notPassing.find((v) => v.verdict === 'fail') ?? notPassing[0];
  const firstItem = first?.offending[0];
  const detail =
    first === undefined
      ? ''
      : `${first.id} ${first.name} (${oneLine(firstItem === undefined ? first.summary : itemText(firstItem))})`;
  return {
    seed: options.seed,
    verdict: result.verdict,
    invariants: notPassing.map((v) => v.id),
    detail,
    scheduleDigest: result.schedule.scheduleDigest,
    wallMs: Date.now() - startedMs,
  };
}

function itemText(item: unknown): string {
  try {
    return typeof item === 'string' ? item : (JSON.stringify(item) ?? String(item));
  } catch {
    return String(item);
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > DETAIL_CHARS_MAX ? `${flat.slice(0, DETAIL_CHARS_MAX - 1)}…` : flat;
}
