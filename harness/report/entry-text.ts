// A scenario's report entry as the lines `camfleet scenario run` prints for it — per invariant what was expected
// and what happened, the first offending rows of one that did not hold, the outcome, the bundle — shared by the
// command and the library (whose vitest helper fails a test with these very lines).
import type { InvariantOutcome } from '../checker/expectation.ts';
import { describeExpectation } from '../checker/expectation.ts';
import type { ReportEntry } from './entry.ts';

const expectedText = (o: InvariantOutcome) =>
  o.expected === 'not-fail' ? 'pass/unknown' : o.expected === 'any' ? 'any' : o.expected;

/** Offending rows shown per invariant that did not hold. */
export const OFFENDING_LINES_MAX = 3;

export function entryLines(entry: ReportEntry, interrupted = false): string[] {
  const lines: string[] = [];
  if (entry.error !== undefined) {
    lines.push(`not run: ${entry.error}`);
  } else {
    for (const o of entry.invariants) {
      const label = `${o.id} ${o.name} `;
      const mark = o.outcome === 'met' ? 'ok' : o.outcome === 'unmet' ? 'UNMET' : '??';
      lines.push(
        `${label}${'.'.repeat(Math.max(2, 26 - label.length))} expected ${expectedText(o).padEnd(12)} got ${o.actual.toUpperCase().padEnd(7)} ${mark.padEnd(5)} ${o.summary}`,
      );
      if (o.outcome !== 'met')
        for (const item of o.offending.slice(0, OFFENDING_LINES_MAX))
          lines.push(`      - ${JSON.stringify(item).slice(0, 240)}`);
    }
  }
  const what = entry.outcome === 'met' ? 'MET' : entry.outcome === 'unmet' ? 'NOT MET' : 'UNKNOWN';
  lines.push(
    `${entry.name}: expected ${describeExpectation(entry.expected)}, verdict ${entry.verdict.toUpperCase()}${entry.aborted ? (interrupted ? ' (interrupted)' : ' (time budget exceeded)') : ''} → ${what} in ${(entry.wallMs / 1000).toFixed(1)} s`,
  );
  if (entry.bundleDir) lines.push(`bundle: ${entry.bundleDir}`, `replay: ${entry.replay ?? ''}`);
  return lines;
}
