// report.html's script (runs in the browser; html.ts inlines it after Apache ECharts). It reads the JSON the report
// embeds (#camfleet-report: the runs, each with its report entry and its timeline from timeline.ts) and draws, per
// run: the verdicts with their offending rows (device MACs link to their lanes), the fault plan, an overview of the
// whole fleet over time, and the per-device swimlanes. Lanes are virtualised: the chart holds every lane but the
// y-axis zoom window draws at most LANES_SHOWN of them, so 10,000 devices stay responsive.
(function () {
  'use strict';
  const LANES_SHOWN = 40;
  const data = JSON.parse(document.getElementById('camfleet-report').textContent);
  const spanKinds = data.spanKinds;
  const markKinds = data.markKinds;
  const spanColour = { awake: '#d5dde3', transfer: '#4f8fd6', 'transfer-open': '#f0a030' };
  const markStyle = {
    captured: { colour: '#8a959e', shape: 'dot' },
    metadata: { colour: '#1f5fa8', shape: 'diamond' },
    resend: { colour: '#8e44ad', shape: 'diamond' },
    chunks: { colour: '#1f5fa8', shape: 'tick' },
    'chunks-resent': { colour: '#8e44ad', shape: 'tick' },
    'resume-request': { colour: '#e67e22', shape: 'triangle' },
    ack: { colour: '#2e9d4f', shape: 'dot' },
    'ack-early': { colour: '#c62828', shape: 'dot' },
    dequeued: { colour: '#1b6b35', shape: 'square' },
    'duplicate-logged': { colour: '#6d6d6d', shape: 'square' },
    fault: { colour: '#c62828', shape: 'triangle' },
    'gave-up': { colour: '#222222', shape: 'cross' },
    'lost-capture': { colour: '#c62828', shape: 'cross' },
    malformed: { colour: '#8d5524', shape: 'square' },
    refused: { colour: '#d0308f', shape: 'cross' },
  };
  const FAIL = '#c62828';

  const state = { run: 0, failingOnly: false, compress: true, focused: undefined, lanes: [], laneOf: new Map() };
  let overview;
  let lanesChart;

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined) continue;
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  };

  /** replaceChildren without the null placeholders of optional parts. */
  function replaceWith(node, ...children) {
    node.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
  }

  /** A precise time for lists and tooltips: seconds with ms, or h:mm:ss.mmm for long (virtual-time) runs. */
  function clock(ms) {
    if (ms < 120e3) return (ms / 1000).toFixed(3) + ' s';
    const h = Math.floor(ms / 3600e3);
    const m = Math.floor((ms % 3600e3) / 60e3);
    const sec = ((ms % 60e3) / 1000).toFixed(3).padStart(6, '0');
    return `${h}:${String(m).padStart(2, '0')}:${sec}`;
  }

  function escapeHtml(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  /**
   * The x axis of the charts. Runs in sim time sleep for hours between wakes of a few seconds, so by default long
   * stretches where nothing happens are drawn narrow (each collapsed gap is shaded and says how long it was):
   * `toDisp` maps a time in the run to the axis, `toReal` maps back for the labels.
   */
  function buildTimeAxis(timeline, compress) {
    const endMs = Math.max(timeline.endMs, 1);
    const identity = { toDisp: (t) => t, toReal: (d) => d, endDisp: endMs, gaps: [], compressible: false };
    const active = [];
    for (let i = 0; i < timeline.spans.length; i += 5)
      if (spanKinds[timeline.spans[i + 3]] === 'awake') active.push([timeline.spans[i + 1], timeline.spans[i + 2]]);
    for (let i = 0; i < timeline.marks.length; i += 4) active.push([timeline.marks[i + 1], timeline.marks[i + 1]]);
    for (const f of timeline.fleet) active.push([f.tMs, f.tMs]);
    active.push([0, 0], [endMs, endMs]);
    active.sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const [a, b] of active) {
      const last = merged[merged.length - 1];
      if (last && a <= last[1]) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    let activeMs = 0;
    for (const [a, b] of merged) activeMs += b - a;
    // A gap is collapsed when it is long against the activity; collapsed gaps share a fifth of the activity's width.
    const threshold = Math.max(activeMs * 0.05, 100);
    const gaps = [];
    for (let i = 1; i < merged.length; i++) {
      const from = merged[i - 1][1];
      const to = merged[i][0];
      if (to - from > threshold) gaps.push([from, to]);
    }
    const gapDisp = Math.min(threshold, Math.max((activeMs * 0.2) / Math.max(1, gaps.length), activeMs * 0.01, 1));
    let gapMs = 0;
    for (const [a, b] of gaps) gapMs += b - a;
    const compressible = gapMs > endMs * 0.5;
    if (!compress || !compressible) return { ...identity, compressible };
    // Piecewise linear: [realFrom, realTo, dispFrom, dispTo] segments, gaps drawn gapDisp wide.
    const segments = [];
    let real = 0;
    let disp = 0;
    for (const [a, b] of gaps) {
      segments.push([real, a, disp, disp + (a - real)]);
      disp += a - real;
      segments.push([a, b, disp, disp + gapDisp]);
      disp += gapDisp;
      real = b;
    }
    segments.push([real, endMs, disp, disp + (endMs - real)]);
    const endDisp = disp + (endMs - real);
    const find = (value, from, to) => {
      let lo = 0;
      let hi = segments.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (segments[mid][from] <= value) lo = mid;
        else hi = mid - 1;
      }
      const seg = segments[lo];
      const span = seg[to + 1] - seg[to];
      const own = seg[from + 1] - seg[from];
      return own === 0 ? seg[to] : seg[to] + ((value - seg[from]) / own) * span;
    };
    return {
      toDisp: (t) => find(t, 0, 2),
      toReal: (d) => find(d, 2, 0),
      endDisp,
      gaps: gaps.map(([a, b]) => ({ from: find(a, 0, 2), to: find(b, 0, 2), ms: b - a })),
      compressible,
    };
  }

  /** An axis label: seconds for the first two minutes, then h:mm:ss. */
  function axisTime(ms) {
    if (ms < 120e3) return (ms / 1000).toFixed(ms < 10e3 ? 2 : 1) + ' s';
    const h = Math.floor(ms / 3600e3);
    const m = Math.floor((ms % 3600e3) / 60e3);
    const sec = Math.floor((ms % 60e3) / 1000);
    return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  }

  function formatMs(ms, endMs) {
    if (endMs > 2 * 3600e3) return (ms / 3600e3).toFixed(2) + ' h';
    if (endMs > 120e3) return (ms / 60e3).toFixed(1) + ' min';
    return (ms / 1000).toFixed(ms < 10e3 ? 2 : 1) + ' s';
  }

  /** Text with every MAC in it turned into a link to that device's lane. */
  function withDeviceLinks(text) {
    const parts = [];
    // 12 upper-case hex digits on their own: not the tail of a uuid or part of a hash.
    const re = /(?<![-0-9A-Fa-f])[0-9A-F]{12}(?![-0-9A-Fa-f])/g;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      parts.push(text.slice(last, m.index));
      const mac = m[0];
      parts.push(
        el(
          'a',
          {
            href: '#lane-' + mac,
            class: 'device-link',
            'data-mac': mac,
            onclick: (ev) => {
              ev.preventDefault();
              focusDevice(mac);
            },
          },
          mac,
        ),
      );
      last = m.index + mac.length;
    }
    parts.push(text.slice(last));
    return parts;
  }

  function currentRun() {
    return data.runs[state.run];
  }

  function renderHead() {
    const { entry } = currentRun();
    const head = document.getElementById('run-head');
    replaceWith(
      head,
      el(
        'h2',
        {},
        entry.name,
        ' ',
        el(
          'span',
          { class: 'badge ' + entry.outcome },
          entry.outcome === 'met' ? 'held' : entry.outcome === 'unmet' ? 'NOT MET' : 'unknown',
        ),
      ),
      entry.purpose ? el('p', { class: 'purpose' }, entry.purpose) : null,
      el(
        'p',
        { class: 'facts' },
        `verdict ${entry.verdict.toUpperCase()} · seed ${entry.seed} · pipeline ${entry.pipeline} · stage ${entry.stage} · faults: ${entry.faults} · ${(entry.wallMs / 1000).toFixed(1)} s`,
      ),
      entry.error ? el('p', { class: 'error' }, 'no verdicts: ', entry.error) : null,
      entry.replay ? el('p', { class: 'replay' }, 'replay: ', el('code', {}, entry.replay)) : null,
    );
  }

  function renderVerdicts() {
    const { entry } = currentRun();
    const body = entry.invariants.map((inv) => {
      const shown = inv.offending.length;
      const rows =
        shown === 0
          ? null
          : el(
              'details',
              { open: inv.actual === 'fail' ? '' : undefined },
              el(
                'summary',
                {},
                `${inv.offendingCount} offending${shown < inv.offendingCount ? ` (first ${shown} shown)` : ''}`,
              ),
              el(
                'ol',
                { class: 'offending' },
                inv.offending.map((row) => el('li', {}, withDeviceLinks(JSON.stringify(row)))),
              ),
            );
      return el(
        'tr',
        { class: 'inv ' + inv.outcome + ' actual-' + inv.actual, 'data-invariant': inv.id },
        el('td', {}, inv.id),
        el('td', {}, inv.name),
        el('td', {}, inv.expected),
        el('td', { class: 'actual' }, inv.actual.toUpperCase()),
        el('td', { class: 'outcome' }, inv.outcome === 'met' ? 'ok' : inv.outcome === 'unmet' ? 'NOT MET' : 'unknown'),
        el('td', { class: 'summary' }, withDeviceLinks(inv.summary), rows),
      );
    });
    document.getElementById('verdicts').replaceChildren(
      el('h3', {}, 'Invariants'),
      entry.invariants.length === 0
        ? el('p', {}, 'No verdicts (the run did not happen).')
        : el(
            'table',
            { class: 'verdicts' },
            el(
              'tr',
              {},
              ['', 'invariant', 'expected', 'got', 'held', 'summary and offending rows'].map((h) => el('th', {}, h)),
            ),
            body,
          ),
    );
  }

  function renderPlan() {
    const { entry, timeline } = currentRun();
    const rows = timeline
      ? timeline.plan.map((p) =>
          el(
            'tr',
            { class: 'plan-' + p.status },
            el('td', {}, p.fault),
            el('td', {}, p.when),
            el('td', {}, p.status),
            el('td', {}, p.tMs === null || p.tMs === undefined ? '' : clock(p.tMs)),
            el('td', {}, withDeviceLinks(p.detail)),
          ),
        )
      : [];
    const fleetFaults = timeline ? timeline.fleet.filter((f) => f.kind !== 'phase') : [];
    replaceWith(
      document.getElementById('plan'),
      el('h3', {}, 'Fault plan'),
      el('p', {}, 'faults switched on: ', el('code', {}, entry.faults)),
      rows.length === 0
        ? el(
            'p',
            { class: 'muted' },
            'No triggered or pointed faults (rates only: their injections are the red marks in the lanes).',
          )
        : el(
            'table',
            { class: 'plan' },
            el(
              'tr',
              {},
              ['fault', 'when', 'status', 'at', 'detail'].map((h) => el('th', {}, h)),
            ),
            rows,
          ),
      fleetFaults.length === 0
        ? null
        : el(
            'details',
            {},
            el('summary', {}, `${fleetFaults.length} fleet-wide fault events (the vertical lines)`),
            el(
              'ol',
              {},
              fleetFaults.map((f) => el('li', {}, clock(f.tMs), ' ', withDeviceLinks(f.label))),
            ),
          ),
    );
  }

  function computeLanes() {
    const { timeline } = currentRun();
    if (!timeline) {
      state.lanes = [];
      state.laneOf = new Map();
      return;
    }
    const all = timeline.devices;
    const failing = timeline.failing;
    state.lanes = state.failingOnly ? all.filter((mac) => failing[mac] !== undefined) : all.slice();
    state.laneOf = new Map(state.lanes.map((mac, i) => [mac, i]));
  }

  /** The run's spans and marks on the lanes shown (re-indexed when only failing devices are shown). */
  function laneData(axis) {
    const { timeline } = currentRun();
    const spans = [];
    const marks = [];
    const allIndex = new Map(timeline.devices.map((mac, i) => [i, state.laneOf.get(mac)]));
    for (let i = 0; i < timeline.spans.length; i += 5) {
      const lane = allIndex.get(timeline.spans[i]);
      if (lane === undefined) continue;
      const from = timeline.spans[i + 1];
      const to = timeline.spans[i + 2];
      spans.push([lane, axis.toDisp(from), axis.toDisp(to), timeline.spans[i + 3], timeline.spans[i + 4], from, to]);
    }
    for (let i = 0; i < timeline.marks.length; i += 4) {
      const lane = allIndex.get(timeline.marks[i]);
      if (lane === undefined) continue;
      const t = timeline.marks[i + 1];
      marks.push([lane, axis.toDisp(t), timeline.marks[i + 2], timeline.marks[i + 3], t]);
    }
    // Awake spans first: the thinner transfer bars are drawn over them.
    const awake = spanKinds.indexOf('awake');
    spans.sort((a, b) => (a[3] === awake ? 0 : 1) - (b[3] === awake ? 0 : 1));
    return { spans, marks };
  }

  function renderSpan(params, api) {
    const lane = api.value(0);
    const kind = spanKinds[api.value(3)];
    const start = api.coord([api.value(1), lane]);
    const end = api.coord([api.value(2), lane]);
    const laneHeight = api.size([0, 1])[1];
    const height = laneHeight * (kind === 'awake' ? 0.7 : 0.32);
    const shape = echarts.graphic.clipRectByRect(
      { x: start[0], y: start[1] - height / 2, width: Math.max(1, end[0] - start[0]), height },
      { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height },
    );
    return shape && { type: 'rect', transition: [], shape, style: { fill: spanColour[kind] } };
  }

  function renderMark(params, api) {
    const lane = api.value(0);
    const kind = markKinds[api.value(2)];
    const [x, y] = api.coord([api.value(1), lane]);
    const c = params.coordSys;
    if (x < c.x || x > c.x + c.width) return null;
    const r = Math.max(2, Math.min(6, api.size([0, 1])[1] * 0.28));
    const { colour, shape } = markStyle[kind];
    const style = { fill: colour, stroke: colour };
    switch (shape) {
      case 'tick':
        return { type: 'rect', transition: [], shape: { x: x - 1, y: y - r * 1.4, width: 2, height: r * 2.8 }, style };
      case 'diamond':
        return {
          type: 'polygon',
          transition: [],
          shape: {
            points: [
              [x, y - r],
              [x + r, y],
              [x, y + r],
              [x - r, y],
            ],
          },
          style,
        };
      case 'triangle':
        return {
          type: 'polygon',
          transition: [],
          shape: {
            points: [
              [x, y - r * 1.2],
              [x + r, y + r * 0.8],
              [x - r, y + r * 0.8],
            ],
          },
          style,
        };
      case 'square':
        return {
          type: 'rect',
          transition: [],
          shape: { x: x - r * 0.8, y: y - r * 0.8, width: r * 1.6, height: r * 1.6 },
          style,
        };
      case 'cross':
        return {
          type: 'group',
          children: [
            {
              type: 'line',
              transition: [],
              shape: { x1: x - r, y1: y - r, x2: x + r, y2: y + r },
              style: { stroke: colour, lineWidth: 2 },
            },
            {
              type: 'line',
              transition: [],
              shape: { x1: x - r, y1: y + r, x2: x + r, y2: y - r },
              style: { stroke: colour, lineWidth: 2 },
            },
          ],
        };
      default:
        return { type: 'circle', transition: [], shape: { cx: x, cy: y, r: r * 0.8 }, style };
    }
  }

  /** A band behind a lane: failing devices in red, the device in focus in yellow. */
  function renderBand(params, api) {
    const y = api.coord([0, api.value(0)])[1];
    const h = api.size([0, 1])[1];
    const c = params.coordSys;
    return {
      type: 'rect',
      transition: [],
      shape: { x: c.x, y: y - h / 2, width: c.width, height: h },
      style: { fill: api.value(1) === 1 ? 'rgba(255, 214, 0, 0.45)' : 'rgba(198, 40, 40, 0.13)' },
    };
  }

  /** Lane backgrounds: [lane, 0] for a failing device, [lane, 1] for the device in focus. */
  function bandData(timeline) {
    const bands = [];
    for (const mac of state.lanes) if (timeline.failing[mac]) bands.push([state.laneOf.get(mac), 0]);
    if (state.focused !== undefined && state.laneOf.has(state.focused))
      bands.push([state.laneOf.get(state.focused), 1]);
    return bands;
  }

  function renderTimeline() {
    const run = currentRun();
    const { timeline } = run;
    const box = document.getElementById('timeline-info');
    const failingCount = timeline ? Object.keys(timeline.failing).length : 0;
    document.getElementById('failing-count').textContent = String(failingCount);
    document.getElementById('failing-only').disabled = failingCount === 0;
    if (!timeline) {
      box.textContent = 'No history for this run (it did not happen): nothing to draw.';
      overview.clear();
      lanesChart.clear();
      publishState();
      return;
    }
    computeLanes();
    const endMs = Math.max(timeline.endMs, 1);
    const axis = buildTimeAxis(timeline, state.compress);
    const compressBox = document.getElementById('compress');
    compressBox.disabled = !axis.compressible;
    compressBox.checked = state.compress && axis.compressible;
    const { spans, marks } = laneData(axis);
    box.textContent = `${timeline.devices.length} devices · ${formatMs(endMs, endMs)} · ${failingCount} failing · showing ${state.lanes.length} lane${state.lanes.length === 1 ? '' : 's'}${state.lanes.length > LANES_SHOWN ? ` (${LANES_SHOWN} at a time: drag the slider on the right or scroll)` : ''}`;
    const bands = bandData(timeline);
    const faultLines = timeline.fleet
      .filter((f) => f.kind !== 'phase')
      .map((f) => ({
        xAxis: axis.toDisp(f.tMs),
        name: `${f.label} (${clock(f.tMs)})`,
        lineStyle: {
          color: f.kind === 'fault-missed' ? '#888' : FAIL,
          type: f.kind === 'fault-missed' ? 'dotted' : 'dashed',
        },
      }));
    const phaseLines = timeline.fleet
      .filter((f) => f.kind === 'phase')
      .map((f) => ({
        xAxis: axis.toDisp(f.tMs),
        name: `${f.label} (${clock(f.tMs)})`,
        lineStyle: { color: '#9aa5ad', type: 'dotted' },
      }));
    // A gap says how long it was where it is wide enough to read (a twentieth of the axis); narrower ones are
    // shaded only.
    const gapAreas = axis.gaps.map((g) => [
      {
        xAxis: g.from,
        name: `idle ${formatMs(g.ms, g.ms)}`,
        label: { show: (g.to - g.from) / axis.endDisp >= 0.05 },
      },
      { xAxis: g.to },
    ]);
    const shown = Math.min(state.lanes.length, LANES_SHOWN);
    const height = Math.max(160, shown * 22 + 90);
    document.getElementById('lanes').style.height = height + 'px';
    lanesChart.resize();
    lanesChart.clear();
    lanesChart.setOption({
      animation: false,
      grid: { left: 130, right: 60, top: 24, bottom: 56 },
      tooltip: {
        trigger: 'item',
        formatter: (p) => {
          // ECharts takes the tooltip as HTML: everything from the history is escaped (a bundle's lanes are its text).
          const device = escapeHtml(state.lanes[p.value[0]]);
          if (p.seriesId === 'bands') {
            const fails = timeline.failing[state.lanes[p.value[0]]];
            return device + (fails ? ' fails ' + escapeHtml(fails.join(', ')) : '');
          }
          if (p.seriesId === 'spans')
            return `${device}<br>${spanKinds[p.value[3]]} ${escapeHtml(timeline.labels[p.value[4]])}<br>${clock(p.value[5])} → ${clock(p.value[6])}`;
          if (p.seriesId === 'marks')
            return `${device}<br>${escapeHtml(timeline.labels[p.value[3]])}<br>at ${clock(p.value[4])}`;
          return escapeHtml(p.name);
        },
      },
      xAxis: {
        type: 'value',
        min: 0,
        max: axis.endDisp,
        axisLabel: { formatter: (v) => axisTime(axis.toReal(v)) },
        splitLine: { lineStyle: { color: '#eef1f3' } },
      },
      yAxis: {
        type: 'category',
        data: state.lanes,
        inverse: true,
        triggerEvent: true,
        axisLabel: {
          interval: 0,
          fontFamily: 'monospace',
          formatter: (mac) =>
            timeline.failing[mac] ? `{fail|${mac}}` : mac === state.focused ? `{focus|${mac}}` : mac,
          rich: {
            fail: { color: FAIL, fontWeight: 'bold', fontFamily: 'monospace' },
            focus: { color: '#8a6d00', fontWeight: 'bold', fontFamily: 'monospace' },
          },
        },
        splitLine: { show: true, lineStyle: { color: '#f1f3f5' } },
      },
      dataZoom: [
        {
          type: 'slider',
          id: 'lanes-zoom',
          yAxisIndex: 0,
          filterMode: 'weakFilter',
          startValue: 0,
          endValue: Math.max(0, shown - 1),
          width: 18,
          right: 14,
          zoomLock: false,
          show: state.lanes.length > LANES_SHOWN,
          showDetail: false,
          brushSelect: false,
        },
        {
          type: 'inside',
          yAxisIndex: 0,
          filterMode: 'weakFilter',
          zoomOnMouseWheel: false,
          moveOnMouseWheel: true,
          moveOnMouseMove: false,
        },
        {
          type: 'slider',
          xAxisIndex: 0,
          filterMode: 'weakFilter',
          height: 18,
          bottom: 8,
          labelFormatter: (v) => axisTime(axis.toReal(v)),
        },
        { type: 'inside', xAxisIndex: 0, filterMode: 'weakFilter', zoomOnMouseWheel: 'ctrl', moveOnMouseWheel: false },
      ],
      series: [
        { id: 'bands', type: 'custom', renderItem: renderBand, encode: { y: 0 }, data: bands, silent: false, z: 1 },
        {
          id: 'spans',
          type: 'custom',
          renderItem: renderSpan,
          encode: { x: [1, 2], y: 0 },
          data: spans,
          z: 2,
          markLine: { silent: false, symbol: 'none', label: { show: false }, data: faultLines.concat(phaseLines) },
          markArea: {
            silent: true,
            itemStyle: { color: 'rgba(120, 130, 140, 0.12)' },
            label: { show: true, position: 'insideTop', color: '#7a858d', fontSize: 10 },
            data: gapAreas,
          },
        },
        { id: 'marks', type: 'custom', renderItem: renderMark, encode: { x: 1, y: 0 }, data: marks, z: 3 },
      ],
    });
    renderOverview(timeline, endMs, axis);
    publishState();
  }

  /** The whole fleet over time, in 200 buckets: devices awake, transfers open, chunk bursts and ACKs. */
  function renderOverview(timeline, endMs, axis) {
    const buckets = 200;
    const width = axis.endDisp / buckets;
    const at = (ms) => Math.min(buckets - 1, Math.floor(axis.toDisp(ms) / width));
    const awake = new Float64Array(buckets + 1);
    const open = new Float64Array(buckets + 1);
    const chunks = new Float64Array(buckets);
    const acks = new Float64Array(buckets);
    const faults = new Float64Array(buckets);
    const s = timeline.spans;
    for (let i = 0; i < s.length; i += 5) {
      const arr = spanKinds[s[i + 3]] === 'awake' ? awake : open;
      arr[at(s[i + 1])] += 1;
      arr[at(s[i + 2]) + 1] -= 1;
    }
    const m = timeline.marks;
    for (let i = 0; i < m.length; i += 4) {
      const kind = markKinds[m[i + 2]];
      if (kind === 'chunks' || kind === 'chunks-resent') chunks[at(m[i + 1])] += 1;
      else if (kind === 'ack' || kind === 'ack-early') acks[at(m[i + 1])] += 1;
      else if (kind === 'fault') faults[at(m[i + 1])] += 1;
    }
    const series = (name, values, type, colour, cumulative) => {
      const points = [];
      let running = 0;
      for (let b = 0; b < buckets; b++) {
        running = cumulative ? running + values[b] : values[b];
        points.push([(b + 0.5) * width, running]);
      }
      return {
        name,
        type,
        data: points,
        showSymbol: false,
        itemStyle: { color: colour },
        lineStyle: { color: colour },
        barWidth: '60%',
      };
    };
    overview.clear();
    overview.setOption({
      animation: false,
      grid: { left: 130, right: 60, top: 30, bottom: 24 },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v) => String(Math.round(v)) },
      xAxis: {
        type: 'value',
        min: 0,
        max: axis.endDisp,
        axisLabel: { formatter: (v) => axisTime(axis.toReal(v)) },
      },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        series('devices awake', awake, 'line', '#8a959e', true),
        series('transfers open', open, 'line', '#4f8fd6', true),
        series('chunk bursts', chunks, 'bar', '#1f5fa8', false),
        series('ACK_OKs', acks, 'bar', '#2e9d4f', false),
        series('device faults', faults, 'bar', FAIL, false),
      ],
    });
  }

  function showDevice(mac) {
    const { timeline } = currentRun();
    const panel = document.getElementById('device');
    if (!timeline || mac === undefined) {
      panel.replaceChildren();
      return;
    }
    const lane = timeline.devices.indexOf(mac);
    const items = [];
    for (let i = 0; i < timeline.spans.length; i += 5)
      if (timeline.spans[i] === lane)
        items.push([
          timeline.spans[i + 1],
          `${spanKinds[timeline.spans[i + 3]]} ${timeline.labels[timeline.spans[i + 4]]} until ${clock(timeline.spans[i + 2])}`,
        ]);
    for (let i = 0; i < timeline.marks.length; i += 4)
      if (timeline.marks[i] === lane) items.push([timeline.marks[i + 1], timeline.labels[timeline.marks[i + 3]]]);
    items.sort((a, b) => a[0] - b[0]);
    const failing = timeline.failing[mac];
    panel.replaceChildren(
      el(
        'h3',
        {},
        'Device ',
        el('code', {}, mac),
        failing ? el('span', { class: 'badge unmet' }, 'fails ' + failing.join(', ')) : null,
      ),
      lane < 0
        ? el('p', {}, 'This device has no events in the history.')
        : el(
            'ol',
            { class: 'device-events' },
            items.map(([t, text]) => el('li', {}, el('span', { class: 't' }, clock(t)), ' ', text)),
          ),
    );
  }

  /** Brings a device's lane into the zoom window, marks it and lists its events. */
  function focusDevice(mac) {
    const { timeline } = currentRun();
    if (!timeline) return;
    if (!timeline.devices.includes(mac)) {
      document.getElementById('timeline-info').textContent = `${mac}: no such device in this run`;
      return;
    }
    if (state.failingOnly && !timeline.failing[mac]) {
      state.failingOnly = false;
      document.getElementById('failing-only').checked = false;
    }
    state.focused = mac;
    // Only the bands and the labels change (a full redraw of 10,000 lanes' data takes seconds); a lane the filter
    // hid needs the full one.
    if (state.laneOf.has(mac)) lanesChart.setOption({ series: [{ id: 'bands', data: bandData(timeline) }] });
    else renderTimeline();
    const lane = state.laneOf.get(mac);
    const half = Math.floor(LANES_SHOWN / 2);
    const start = Math.max(0, Math.min(lane - half, state.lanes.length - LANES_SHOWN));
    lanesChart.dispatchAction({
      type: 'dataZoom',
      dataZoomIndex: 0,
      startValue: start,
      endValue: Math.min(state.lanes.length - 1, start + LANES_SHOWN - 1),
    });
    showDevice(mac);
    publishState();
    document.getElementById('timeline').scrollIntoView({ block: 'start' });
  }

  /** What the page shows, for scripts and tests (window.camfleetReport and data- attributes). */
  function publishState() {
    const { timeline } = currentRun();
    const zoom = lanesChart.getOption() && lanesChart.getOption().dataZoom;
    const z = zoom && zoom[0];
    const first = z && typeof z.startValue === 'number' ? z.startValue : 0;
    const last = z && typeof z.endValue === 'number' ? z.endValue : state.lanes.length - 1;
    const drawn = state.lanes.slice(first, last + 1);
    window.camfleetReport = {
      run: state.run,
      devices: timeline ? timeline.devices.length : 0,
      lanes: state.lanes.length,
      lanesDrawn: drawn,
      failing: timeline ? Object.keys(timeline.failing) : [],
      failingOnly: state.failingOnly,
      focused: state.focused,
    };
    document.body.dataset.lanes = String(state.lanes.length);
    document.body.dataset.lanesDrawn = String(drawn.length);
    document.body.dataset.focused = state.focused || '';
  }

  function renderRun() {
    state.focused = undefined;
    renderHead();
    renderVerdicts();
    renderPlan();
    renderTimeline();
    showDevice(undefined);
  }

  function setup() {
    overview = echarts.init(document.getElementById('overview'), null, { renderer: 'svg' });
    lanesChart = echarts.init(document.getElementById('lanes'), null, { renderer: 'svg' });
    lanesChart.on('click', (p) => {
      if (p.componentType === 'yAxis') focusDevice(p.value);
      else if (p.componentType === 'series' && Array.isArray(p.value) && p.seriesId !== 'bands')
        focusDevice(state.lanes[p.value[0]]);
    });
    lanesChart.on('datazoom', publishState);
    const select = document.getElementById('run-select');
    data.runs.forEach((run, i) =>
      select.append(
        el(
          'option',
          { value: String(i) },
          `${run.entry.name} — ${run.entry.outcome === 'met' ? 'held' : run.entry.outcome === 'unmet' ? 'NOT MET' : 'unknown'}`,
        ),
      ),
    );
    select.parentElement.hidden = data.runs.length < 2;
    // The first run that did not hold is the one to look at.
    const firstBad = data.runs.findIndex((r) => r.entry.outcome !== 'met');
    state.run = firstBad < 0 ? 0 : firstBad;
    select.value = String(state.run);
    select.addEventListener('change', () => {
      state.run = Number(select.value);
      renderRun();
    });
    document.getElementById('compress').addEventListener('change', (ev) => {
      state.compress = ev.target.checked;
      renderTimeline();
    });
    document.getElementById('failing-only').addEventListener('change', (ev) => {
      state.failingOnly = ev.target.checked;
      renderTimeline();
    });
    document.getElementById('find').addEventListener('change', (ev) => {
      const mac = ev.target.value
        .trim()
        .toUpperCase()
        .replace(/[:\-\s]/g, '');
      if (mac) focusDevice(mac);
    });
    const legend = document.getElementById('legend');
    for (const kind of spanKinds)
      legend.append(
        el('span', { class: 'key' }, el('i', { class: 'swatch', style: `background:${spanColour[kind]}` }), kind),
      );
    for (const kind of markKinds)
      legend.append(
        el(
          'span',
          { class: 'key' },
          el('i', { class: 'swatch ' + markStyle[kind].shape, style: `background:${markStyle[kind].colour}` }),
          kind,
        ),
      );
    window.addEventListener('resize', () => {
      overview.resize();
      lanesChart.resize();
    });
    renderRun();
    document.body.dataset.ready = '1';
  }

  try {
    setup();
  } catch (error) {
    document.body.dataset.error = String(error && error.stack ? error.stack : error);
    document.body.prepend(el('pre', { class: 'error' }, 'report.html could not draw: ' + String(error)));
    throw error;
  }
})();
