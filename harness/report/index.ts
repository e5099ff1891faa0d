// Reports of a set of runs (`--report <dir>` of `simulate` and `scenario`): junit.xml for CI, summary.json for
// scripts. Both are written from the same ReportEntry list.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redactText } from '../world/redact.ts';
import type { ReportEntry } from './entry.ts';
import { junitXml } from './junit.ts';
import { summaryJson } from './summary.ts';

export { entryFromRun, entryWithoutRun } from './entry.ts';
export { entryLines } from './entry-text.ts';
export type { EntryInput, ReportEntry } from './entry.ts';
export { escapeXml, junitXml } from './junit.ts';
export { reportSummary, summaryJson } from './summary.ts';
export type { ReportSummary } from './summary.ts';

export interface WrittenReport {
  readonly junitPath: string;
  readonly summaryPath: string;
}

/** Writes `<dir>/junit.xml` and `<dir>/summary.json` (the directory is created). */
export async function writeReport(dir: string, results: readonly ReportEntry[]): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const junitPath = join(dir, 'junit.xml');
  const summaryPath = join(dir, 'summary.json');
  // Entries carry error messages, which may quote a URL with its password.
  await writeFile(junitPath, redactText(junitXml(results)));
  await writeFile(summaryPath, redactText(summaryJson(results)));
  return { junitPath, summaryPath };
}
