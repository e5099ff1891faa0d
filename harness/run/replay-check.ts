// What `npm run simulate -- --replay B` can say about its run against bundle B (issue 8 "Commands": a failure
// bundle replays in sim mode byte for byte, and --replay says that it checked this). A sim run is a function of its
// seed, so the replay of a sim bundle must give the same failing invariants, the same schedule digest and the same
// history.ndjson, byte for byte; anything else is a finding (determinism lost, or the code changed since the bundle
// was written) with its own exit code. A live run is a sample: its replay re-runs seed, workload and fault plan, not
// the interleaving, and the check says so instead of claiming anything.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InvariantVerdict } from '../checker/index.ts';
import { sha256Hex, type BundleFile } from './bundle.ts';
import type { RunMode } from './run-mode.ts';

export interface ReplayedRun {
  readonly mode: RunMode;
  /** The replay stopped before its end (Ctrl-C, or its wall-time budget ran out). */
  readonly aborted: boolean;
  readonly verdicts: readonly InvariantVerdict[];
  /** The sim run's schedule digest (undefined for a live run). */
  readonly scheduleDigest: string | undefined;
  /** The replay's history as `--history` writes it (bundle.ts historyNdjson without the world's passwords). */
  readonly historyText: string;
}

export interface ReplayCheck {
  /** `reproduced`: all three the same; `diverged`: at least one differs (exit 4); `not-checked`: a live side. */
  readonly status: 'reproduced' | 'diverged' | 'not-checked';
  /** What was compared, one line for people. */
  readonly line: string;
  /** Each difference found, one phrase each (empty unless diverged). */
  readonly differences: readonly string[];
}

const short = (hex: string) => `${hex.slice(0, 12)}…`;
const failing = (verdicts: readonly InvariantVerdict[]) =>
  verdicts.filter((v) => v.verdict === 'fail').map((v) => v.id);
const ids = (list: readonly string[]) => (list.length === 0 ? 'none' : list.join(', '));

/** Reads the bundle's history.ndjson (undefined when it is missing) and compares the replay with the bundle. */
export async function checkReplay(bundleDir: string, file: BundleFile, replay: ReplayedRun): Promise<ReplayCheck> {
  let bundleHistory: string | undefined;
  try {
    bundleHistory = await readFile(join(bundleDir, 'history.ndjson'), 'utf8');
  } catch {
    bundleHistory = undefined;
  }
  return compareReplay(file, bundleHistory, replay);
}

/** The comparison itself, without I/O. `bundleHistory`: the text of the bundle's history.ndjson, if it has one. */
export function compareReplay(file: BundleFile, bundleHistory: string | undefined, replay: ReplayedRun): ReplayCheck {
  const then = failing(file.verdicts);
  const now = failing(replay.verdicts);
  if (file.mode === 'live' || file.sim === undefined)
    return notChecked(
      `the bundle records a live run, which is a sample (real broker, real time): this replay re-ran its seed, ` +
        `workload and fault plan, not its interleaving; failing invariants then ${ids(then)}, now ${ids(now)}`,
    );
  // The time budget and Ctrl-C are wall time: where they cut a run is the machine's, not the seed's.
  if (replay.aborted) return notChecked('the replay stopped before its end (interrupted, or its time budget ran out)');
  if (replay.mode !== 'sim' || replay.scheduleDigest === undefined)
    return notChecked(
      'the bundle records a sim run but it was replayed in live mode, a sample; replay it without --mode live to check it byte for byte',
    );

  const recorded = file.sim;
  const same: string[] = [];
  const differences: string[] = [];
  const sameIds = then.length === now.length && then.every((id) => now.includes(id));
  if (sameIds) same.push(`same failing invariants (${ids(now)})`);
  else differences.push(`failing invariants differ (bundle: ${ids(then)}; replay: ${ids(now)})`);
  if (replay.scheduleDigest === recorded.scheduleDigest)
    same.push(`same schedule digest (${short(recorded.scheduleDigest)})`);
  else
    differences.push(
      `schedule digest differs (bundle ${short(recorded.scheduleDigest)}, replay ${short(replay.scheduleDigest)})`,
    );
  // A bundle written before the history had device_sent_chunks events (the report's chunk bursts, added after the
  // bundle format) is held against the replay's history without them, renumbered as they were then.
  const olderBundle =
    bundleHistory !== undefined && !bundleHistory.includes(CHUNKS_EVENT) && replay.historyText.includes(CHUNKS_EVENT);
  const replayHistory = olderBundle ? withoutChunkEvents(replay.historyText) : replay.historyText;
  const replaySha = sha256Hex(replayHistory);
  if (replaySha === recorded.historySha256)
    same.push(
      `same history (sha256 ${short(replaySha)}${olderBundle ? ', without the device_sent_chunks events the bundle predates' : ''})`,
    );
  else {
    // The file can show where only when it is the run's history as recorded (no password masked in it).
    const where =
      bundleHistory !== undefined && sha256Hex(bundleHistory) === recorded.historySha256
        ? `; first difference at line ${firstDifferentLine(bundleHistory, replayHistory)} of history.ndjson`
        : '';
    differences.push(
      `history differs (sha256 bundle ${short(recorded.historySha256)}, replay ${short(replaySha)}${where})`,
    );
  }
  // The bundle's own files must agree too: a history.ndjson edited after it was written is not the run it records.
  if (bundleHistory === undefined) differences.push('the bundle has no history.ndjson to hold the replay against');
  else if (sha256Hex(bundleHistory) !== recorded.historyFileSha256)
    differences.push(
      `the bundle's history.ndjson (sha256 ${short(sha256Hex(bundleHistory))}) is not the one bundle.json records (${short(recorded.historyFileSha256)}): changed after it was written`,
    );

  if (differences.length === 0)
    return { status: 'reproduced', line: `replay check: ${same.join(', ')} — reproduced exactly`, differences };
  const alsoSame = same.length === 0 ? '' : `; ${same.join(', ')}`;
  return {
    status: 'diverged',
    line: `replay check: NOT reproduced — ${differences.join('; ')}${alsoSame}`,
    differences,
  };
}

const CHUNKS_EVENT = '"type":"device_sent_chunks"';

/** An NDJSON history without its device_sent_chunks events, the others' `seq` renumbered to close the gaps. */
export function withoutChunkEvents(text: string): string {
  let removed = 0;
  let out = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.includes(CHUNKS_EVENT)) {
      removed += 1;
      continue;
    }
    const event = JSON.parse(line) as { seq?: unknown };
    if (typeof event.seq === 'number') event.seq -= removed;
    out += JSON.stringify(event) + '\n';
  }
  return out;
}

function notChecked(why: string): ReplayCheck {
  return { status: 'not-checked', line: `replay check: not checked byte for byte — ${why}`, differences: [] };
}

/** 1-based number of the first line where two NDJSON texts differ. */
export function firstDifferentLine(a: string, b: string): number {
  const left = a.split('\n');
  const right = b.split('\n');
  let i = 0;
  while (i < left.length && i < right.length && left[i] === right[i]) i += 1;
  return i + 1;
}
