// Reports of a set of runs (`--report <dir>` of `simulate` and `scenario`): junit.xml for CI, summary.json for
// scripts, report.html for people (verdicts, fault plan, per-device swimlanes from each run's history). All are
// written from the same ReportEntry list.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redactText } from '../world/redact.ts';
import type { HistoryEvent } from '../history/events.ts';
import type { ReportEntry } from './entry.ts';
import { reportHtml } from './html.ts';
import { junitXml } from './junit.ts';
import { buildTimeline } from './timeline.ts';
import { summaryJson } from './summary.ts';

export { entryFromRun, entryWithoutRun } from './entry.ts';
export { entryLines } from './entry-text.ts';
export type { EntryInput, ReportEntry } from './entry.ts';
export { escapeXml, junitXml } from './junit.ts';
export { reportSummary, summaryJson } from './summary.ts';
export type { ReportSummary } from './summary.ts';
export { reportHtml } from './html.ts';
export { buildTimeline } from './timeline.ts';
export type { RunTimeline } from './timeline.ts';

export interface WrittenReport {
  readonly junitPath: string;
  readonly summaryPath: string;
  readonly htmlPath: string;
}

/**
 * Writes `<dir>/junit.xml`, `<dir>/summary.json` and `<dir>/report.html` (the directory is created). `histories[i]`
 * is the history of `results[i]`'s run (undefined when it did not happen): report.html draws its lanes from it.
 */
export async function writeReport(
  dir: string,
  results: readonly ReportEntry[],
  histories: readonly (readonly HistoryEvent[] | undefined)[] = [],
): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const junitPath = join(dir, 'junit.xml');
  const summaryPath = join(dir, 'summary.json');
  const htmlPath = join(dir, 'report.html');
  // Entries carry error messages, which may quote a URL with its password.
  await writeFile(junitPath, redactText(junitXml(results)));
  await writeFile(summaryPath, redactText(summaryJson(results)));
  const runs = results.map((entry, i) => {
    const history = histories[i];
    return { entry, timeline: history === undefined ? undefined : buildTimeline(history, entry.invariants) };
  });
  await writeFile(htmlPath, reportHtml(runs, { redact: redactText }));
  return { junitPath, summaryPath, htmlPath };
}
