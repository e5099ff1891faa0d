// JUnit XML for CI: one <testsuite> per run (scenario), one <testcase> per invariant (classname = scenario name,
// name = `I1 unique`); an unmet expectation is a <failure>, an undecided one (verdict unknown, run not done) an
// <error>. Every attribute and text is XML-escaped.
import { describeExpectation, type InvariantOutcome } from '../checker/expectation.ts';
import { invariantIds, invariantInfo } from '../checker/index.ts';
import type { ReportEntry } from './entry.ts';

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry at all. */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- exactly the control characters XML 1.0 forbids
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function expectedText(o: InvariantOutcome): string {
  return o.expected === 'not-fail' ? 'pass or unknown' : o.expected === 'any' ? 'any verdict' : o.expected;
}

function detail(o: InvariantOutcome): string {
  const items = o.offending.slice(0, 5).map((item) => `  - ${JSON.stringify(item)}`);
  const more = o.offendingCount > items.length ? [`  … and ${o.offendingCount - items.length} more`] : [];
  return [o.summary, ...items, ...more].join('\n');
}

function testcase(entry: ReportEntry, id: (typeof invariantIds)[number], timeS: string): string {
  const o = entry.invariants.find((x) => x.id === id);
  const name = `${id} ${o?.name ?? invariantInfo[id].name}`;
  const open = `    <testcase classname="${escapeXml(entry.name)}" name="${escapeXml(name)}" time="${timeS}"`;
  if (!o) {
    const why = entry.error ?? 'not evaluated';
    return `${open}>\n      <error message="${escapeXml(`not run: ${why}`)}" type="not-run">${escapeXml(why)}</error>\n    </testcase>`;
  }
  if (o.outcome === 'met') return `${open}/>`;
  const message = `expected ${expectedText(o)}, got ${o.actual}`;
  const tag = o.outcome === 'unmet' ? 'failure' : 'error';
  const type = o.outcome === 'unmet' ? 'unmet-expectation' : 'unknown-verdict';
  return `${open}>\n      <${tag} message="${escapeXml(message)}" type="${type}">${escapeXml(detail(o))}</${tag}>\n    </testcase>`;
}

export function junitXml(entries: readonly ReportEntry[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const count = (entry: ReportEntry, outcome: 'unmet' | 'unknown') =>
    entry.invariants.length === 0
      ? outcome === 'unknown'
        ? invariantIds.length
        : 0
      : entry.invariants.filter((o) => o.outcome === outcome).length;
  const failures = entries.reduce((n, e) => n + count(e, 'unmet'), 0);
  const errors = entries.reduce((n, e) => n + count(e, 'unknown'), 0);
  const totalMs = entries.reduce((n, e) => n + e.wallMs, 0);
  lines.push(
    `<testsuites name="camfleet scenarios" tests="${entries.length * invariantIds.length}" failures="${failures}" errors="${errors}" time="${seconds(totalMs)}">`,
  );
  for (const entry of entries) {
    const perCase = seconds(entry.wallMs / invariantIds.length);
    lines.push(
      `  <testsuite name="${escapeXml(entry.name)}" tests="${invariantIds.length}" failures="${count(entry, 'unmet')}" errors="${count(entry, 'unknown')}" time="${seconds(entry.wallMs)}">`,
    );
    lines.push('    <properties>');
    const props: [string, string][] = [
      ['seed', String(entry.seed)],
      ['pipeline', entry.pipeline],
      ['stage', entry.stage],
      ['faults', entry.faults],
      ['expected', describeExpectation(entry.expected)],
      ['verdict', entry.verdict],
      ...(entry.purpose ? ([['purpose', entry.purpose]] as [string, string][]) : []),
      ...(entry.replay ? ([['replay', entry.replay]] as [string, string][]) : []),
    ];
    for (const [name, value] of props)
      lines.push(`      <property name="${escapeXml(name)}" value="${escapeXml(value)}"/>`);
    lines.push('    </properties>');
    for (const id of invariantIds) lines.push(testcase(entry, id, perCase));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}
