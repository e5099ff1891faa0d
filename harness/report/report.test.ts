// Reports: JUnit XML is well-formed (checked by a small parser here) and escapes what it must; the summary JSON
// counts outcomes; writeReport writes both files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { invariantIds, type InvariantVerdict } from '../checker/index.ts';
import { liveRunDefaults, type LiveRunOptions } from '../run/run-options.ts';
import { entryFromRun, entryWithoutRun, escapeXml, junitXml, reportSummary, writeReport } from './index.ts';
import { tempDir } from '../../test/temp-dir.ts';

const options: LiveRunOptions = { ...liveRunDefaults, seed: 7, brokerUrl: undefined, databaseUrl: undefined };
const nasty = `a <b> & "c" 'd' \u0001`;

function verdicts(failing: readonly string[]): InvariantVerdict[] {
  return invariantIds.map((id) => ({
    id,
    name: id === 'I1' ? 'unique' : `name-${id}`,
    description: '',
    verdict: failing.includes(id) ? 'fail' : 'pass',
    summary: failing.includes(id) ? `broken ${nasty}` : 'fine',
    offending: failing.includes(id) ? [{ image_name: '<img>&"1".jpg' }] : [],
    offendingCount: failing.includes(id) ? 3 : 0,
  }));
}
const run = (failing: readonly string[]) => ({
  verdict: failing.length ? ('fail' as const) : ('pass' as const),
  verdicts: verdicts(failing),
  wallMs: 1234,
  aborted: false,
});

const entries = [
  entryFromRun({ name: 'ok-scenario', purpose: `p ${nasty}`, options, expected: 'pass' }, run([])),
  entryFromRun({ name: 'caught & <well>', purpose: undefined, options, expected: { fail: ['I1'] } }, run(['I1'])),
  entryFromRun({ name: 'broken', purpose: undefined, options, expected: 'pass' }, run(['I1', 'I2']), {
    bundleDir: 'b',
    replay: 'npm run simulate -- --replay b',
  }),
  entryWithoutRun({ name: 'not-run', options, expected: 'pass' }, 'no "hook" <here>'),
];

/** Minimal XML well-formedness: balanced, properly nested tags; quoted attributes; no raw `<` or stray `&`. */
function assertWellFormed(xml: string): { tags: string[] } {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tags: string[] = [];
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length && (m = token.exec(body)) !== null) {
    at = token.lastIndex;
    const [, close, name, attrs, selfClose, text] = m;
    const checkEntities = (s: string) => {
      for (const amp of s.matchAll(/&/g))
        if (!/^&(amp|lt|gt|quot|apos);/.test(s.slice(amp.index))) throw new Error(`stray & in ${s}`);
    };
    if (text !== undefined) {
      checkEntities(text);
      continue;
    }
    checkEntities(attrs ?? '');
    if (!close) tags.push(name!);
    if (selfClose) continue;
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else stack.push(name!);
  }
  if (at !== body.length) throw new Error(`not XML at offset ${at}: ${body.slice(at, at + 40)}`);
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`);
  return { tags };
}

describe('JUnit XML', () => {
  const xml = junitXml(entries);

  test('is well-formed, one testsuite per run and one testcase per invariant', () => {
    const { tags } = assertWellFormed(xml);
    expect(tags.filter((t) => t === 'testsuite')).toHaveLength(entries.length);
    expect(tags.filter((t) => t === 'testcase')).toHaveLength(entries.length * 9);
    expect(xml).toContain('<testcase classname="ok-scenario" name="I1 unique" time="0.137"/>');
  });

  test('escapes < & " and drops control characters', () => {
    expect(escapeXml(nasty)).toBe('a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; ');
    expect(xml).toContain('classname="caught &amp; &lt;well&gt;"');
    expect(xml).not.toContain('\u0001');
  });

  test('failures for unmet expectations, errors for runs that did not happen, nothing for met ones', () => {
    expect(xml).toMatch(/<testsuites name="camfleet scenarios" tests="36" failures="2" errors="9"/);
    expect(xml).toContain('<failure message="expected pass, got fail" type="unmet-expectation">broken a &lt;b&gt;');
    expect(xml).toContain('&lt;img&gt;&amp;\\&quot;1\\&quot;.jpg');
    expect(xml).toContain('<error message="not run: no &quot;hook&quot; &lt;here&gt;" type="not-run">');
    expect(xml).toContain('<property name="replay" value="npm run simulate -- --replay b"/>');
    const caught = xml.slice(xml.indexOf('<testsuite name="caught'), xml.indexOf('<testsuite name="broken'));
    expect(caught).not.toMatch(/<failure|<error/);
  });
});

describe('summary JSON and writeReport', () => {
  test('counts outcomes and keeps every invariant with its offending rows', () => {
    const s = reportSummary(entries, new Date('2026-01-14T06:00:00Z'));
    expect(s).toMatchObject({
      format: 'camfleet-summary/1',
      generatedAt: '2026-01-14T06:00:00.000Z',
      outcome: 'unmet',
      counts: { met: 2, unmet: 1, unknown: 1 },
    });
    expect(s.runs[2]?.invariants.find((o) => o.id === 'I1')).toMatchObject({
      expected: 'pass',
      actual: 'fail',
      outcome: 'unmet',
      offendingCount: 3,
    });
  });

  test('writes junit.xml, summary.json and report.html into the directory', async () => {
    const dir = join(tempDir('camfleet-report-'), 'nested');
    const written = await writeReport(dir, entries);
    assertWellFormed(readFileSync(written.junitPath, 'utf8'));
    const summary = JSON.parse(readFileSync(written.summaryPath, 'utf8')) as { runs: { name: string }[] };
    expect(summary.runs.map((r) => r.name)).toEqual(['ok-scenario', 'caught & <well>', 'broken', 'not-run']);
    // The runs' data is embedded as JSON that cannot end its <script> element early: a name with `<` is escaped.
    const html = readFileSync(written.htmlPath, 'utf8');
    const json = /<script type="application\/json" id="camfleet-report">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
    expect(json).not.toContain('<');
    const data = JSON.parse(json) as { runs: { entry: { name: string }; timeline: unknown }[] };
    expect(data.runs.map((r) => r.entry.name)).toEqual(['ok-scenario', 'caught & <well>', 'broken', 'not-run']);
    expect(data.runs.every((r) => r.timeline === null || r.timeline === undefined)).toBe(true);
  });
});

test('writeReport: an error quoting a URL with a password is written redacted in every file', async () => {
  const dir = tempDir('camfleet-report-');
  const entry = entryWithoutRun(
    { name: 'not-run', options, expected: 'pass' },
    'cannot connect to mqtt://user:s3cret@broker:1883 (postgres://p:s3cret@db/x?sslmode=require&password=s3cret)',
  );
  const written = await writeReport(dir, [entry]);
  for (const path of [written.junitPath, written.summaryPath, written.htmlPath])
    expect(readFileSync(path, 'utf8'), path).not.toContain('s3cret');
  expect(readFileSync(written.htmlPath, 'utf8')).toContain('cannot connect to mqtt://');
});
