// report.html: one self-contained file (no network) with each run's verdicts, fault plan and per-device swimlanes.
// Apache ECharts (the package's own minified build) draws the charts; page/report-page.js lays out the rest and
// page/report.css styles it. All three and the runs' data are inlined, so the file opens from disk or a CI artifact.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ReportEntry } from './entry.ts';
import { markKinds, spanKinds, type RunTimeline } from './timeline.ts';

export interface HtmlRun {
  readonly entry: ReportEntry;
  /** Absent when the run did not happen (no history to draw). */
  readonly timeline: RunTimeline | undefined;
}

const require = createRequire(import.meta.url);

function asset(name: string): string {
  return readFileSync(new URL(`./page/${name}`, import.meta.url), 'utf8');
}

/** JSON or script text made safe inside a <script> element (no `</script`, no `<!--`). */
export function scriptSafe(text: string): string {
  return text
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `redact` is applied to the runs' data (entries quote error messages, which may carry a URL's password). */
export function reportHtml(
  runs: readonly HtmlRun[],
  options: { readonly now?: Date; readonly redact?: (text: string) => string } = {},
): string {
  const now = options.now ?? new Date();
  const redact = options.redact ?? ((t: string) => t);
  const data = redact(
    JSON.stringify({ generatedAt: now.toISOString(), spanKinds, markKinds, runs: runs.map((r) => ({ ...r })) }),
  );
  const echartsJs = readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
  const title = runs.length === 1 && runs[0] !== undefined ? `camfleet — ${runs[0].entry.name}` : 'camfleet report';
  // The library's own text goes in as is: it is ours to trust, and escaping `</` in it could change its meaning.
  // A `</script` inside it would end the element early, so that is checked rather than assumed.
  if (/<\/script/i.test(echartsJs)) throw new Error('echarts.min.js contains </script: cannot inline it');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="camfleet">
<title>${escapeHtml(title)}</title>
<style>
${asset('report.css')}
</style>
</head>
<body>
<header>
  <h1>camfleet report</h1>
  <span class="generated">generated ${escapeHtml(now.toISOString())} · ${runs.length} run${runs.length === 1 ? '' : 's'}</span>
  <label class="run-picker">run <select id="run-select"></select></label>
</header>
<main>
  <section id="run-head"></section>
  <section id="verdicts"></section>
  <section id="plan"></section>
  <section id="timeline">
    <h3>Timeline</h3>
    <div class="controls">
      <label><input type="checkbox" id="failing-only"> only failing devices (<span id="failing-count">0</span>)</label>
      <label title="Stretches where no device is awake and nothing happens are drawn narrow (shaded)"><input type="checkbox" id="compress" checked> compress idle time</label>
      <label>find device <input id="find" placeholder="MAC, e.g. B8F862F9C1C4" size="18"></label>
      <span id="timeline-info"></span>
    </div>
    <div id="legend"></div>
    <div id="overview" class="chart"></div>
    <div id="lanes" class="chart"></div>
    <section id="device"></section>
  </section>
</main>
<script type="application/json" id="camfleet-report">${scriptSafe(data)}</script>
<script>
${echartsJs}
</script>
<script>
${asset('report-page.js')}
</script>
</body>
</html>
`;
}
