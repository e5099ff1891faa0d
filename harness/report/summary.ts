// The machine-readable summary of a set of runs: one object per run with the expectation, the outcome, and per
// invariant what was expected and what happened (with the offending rows the checker listed).
import { overallOutcome, type Outcome } from '../checker/expectation.ts';
import type { ReportEntry } from './entry.ts';

export interface ReportSummary {
  readonly format: 'camfleet-summary/1';
  readonly generatedAt: string;
  readonly outcome: Outcome;
  readonly counts: { readonly met: number; readonly unmet: number; readonly unknown: number };
  readonly runs: readonly ReportEntry[];
}

// Wall time by default: generatedAt says when the report was written, not a time inside any run.
export function reportSummary(entries: readonly ReportEntry[], now: Date = new Date()): ReportSummary {
  const counts = { met: 0, unmet: 0, unknown: 0 };
  for (const entry of entries) counts[entry.outcome]++;
  return {
    format: 'camfleet-summary/1',
    generatedAt: now.toISOString(),
    outcome: entries.length === 0 ? 'unknown' : overallOutcome(entries),
    counts,
    runs: entries,
  };
}

export function summaryJson(entries: readonly ReportEntry[], now?: Date): string {
  return JSON.stringify(reportSummary(entries, now), null, 2) + '\n';
}
