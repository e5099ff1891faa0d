// The checker's entry point (ARCHITECTURE.md §3, §6 "the checker reads only the history and the database"): each
// invariant evaluated with the checker's own SQL, in order I1..I9; a verdict per invariant, never an exception.
import type { HistoryEvent } from '../history/events.ts';
import type { Db } from './db.ts';
import { checkUnique } from './i1-unique.ts';
import { checkNoLoss } from './i2-no-loss.ts';
import { checkIntegrity } from './i3-integrity.ts';
import { checkProgressKept } from './i4-progress-kept.ts';
import { checkLiveness } from './i5-liveness.ts';
import { checkDuplicatesLogged } from './i6-duplicates-logged.ts';
import { checkAckAfterDurability } from './i7-ack-after-durability.ts';
import { checkNoPhantoms } from './i8-no-phantoms.ts';
import { checkMalformedRecorded } from './i9-malformed-recorded.ts';
import { checkMigration, migrationSnapshotTaken } from './m1-migration.ts';
import { runFacts, type RunFacts } from './run-facts.ts';
import { errorText, invariantIds, unknown, type InvariantId, type InvariantVerdict, type Verdict } from './verdict.ts';

export type InvariantCheck = (db: Db, facts: RunFacts) => Promise<InvariantVerdict>;

export const invariantChecks: Readonly<Record<Exclude<InvariantId, 'M1' | 'E1'>, InvariantCheck>> = {
  I1: checkUnique,
  I2: checkNoLoss,
  I3: checkIntegrity,
  I4: checkProgressKept,
  I5: checkLiveness,
  I6: checkDuplicatesLogged,
  I7: checkAckAfterDurability,
  I8: checkNoPhantoms,
  I9: checkMalformedRecorded,
};

export interface CheckOptions {
  /** Evaluate only these invariants (still reported in order I1..I9). */
  readonly only?: readonly InvariantId[];
}

export async function checkInvariants(
  db: Db,
  history: readonly HistoryEvent[],
  opts: CheckOptions = {},
): Promise<InvariantVerdict[]> {
  const ids = invariantIds.filter((id) => opts.only === undefined || opts.only.includes(id));
  let facts: RunFacts;
  try {
    facts = runFacts(history);
  } catch (error) {
    return ids.map((id) => unknown(id, `could not read the history: ${errorText(error)}`));
  }
  const verdicts: InvariantVerdict[] = [];
  // One after another: a single client runs one statement at a time anyway.
  for (const id of ids) verdicts.push(await invariantChecks[id](db, facts));
  const migrated = await migrationSnapshotTaken(db).catch(() => false);
  if (migrated && (opts.only === undefined || opts.only.includes('M1'))) verdicts.push(await checkMigration(db, facts));
  return verdicts;
}

/** fail if any fails; else unknown if any is unknown; else pass. */
export function overallVerdict(verdicts: readonly InvariantVerdict[]): Verdict {
  if (verdicts.some((v) => v.verdict === 'fail')) return 'fail';
  if (verdicts.some((v) => v.verdict === 'unknown')) return 'unknown';
  return 'pass';
}

const LABEL_WIDTH = 26;
const ITEMS_SHOWN = 5;
const ITEM_CHARS_MAX = 240;

/**
 * A readable block, one line per invariant (`I1 unique ........ PASS  <summary>`), each failure followed by its
 * first offending items, indented.
 */
export function formatVerdicts(verdicts: readonly InvariantVerdict[]): string {
  const lines: string[] = [];
  for (const v of verdicts) {
    const label = `${v.id} ${v.name} `;
    const dots = '.'.repeat(Math.max(2, LABEL_WIDTH - label.length));
    lines.push(`${label}${dots} ${v.verdict.toUpperCase().padEnd(7)} ${v.summary}`);
    if (v.verdict !== 'fail') continue;
    for (const item of v.offending.slice(0, ITEMS_SHOWN)) lines.push(`      - ${formatItem(item)}`);
    const more = v.offendingCount - Math.min(ITEMS_SHOWN, v.offending.length);
    if (more > 0) lines.push(`      … and ${more} more`);
  }
  return lines.join('\n');
}

function formatItem(item: unknown): string {
  let text: string;
  try {
    text = typeof item === 'string' ? item : (JSON.stringify(item) ?? String(item));
  } catch {
    text = String(item);
  }
  return text.length > ITEM_CHARS_MAX ? `${text.slice(0, ITEM_CHARS_MAX - 1)}…` : text;
}
