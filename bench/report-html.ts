// `npm run bench:report [-- --devices N --chunks K]`: writes report.html for a generated N-device history (each
// device two wakes, one image each; harness/report/test-support.ts) and times it: how big the file is, how long
// writing it takes, and how long headless Chromium takes from opening it to the page drawn (lanes and overview),
// then to bring one device into view. Numbers only: nothing here is a pass or a fail.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { entryWithoutRun } from '../harness/report/entry.ts';
import { writeReport } from '../harness/report/index.ts';
import { deviceMac, fleetHistory, oneFailingDevice } from '../harness/report/test-support.ts';
import { liveRunDefaults } from '../harness/run/run-options.ts';
import { findChromium, launchChromium } from '../test/chromium.ts';

const { values } = parseArgs({
  options: { devices: { type: 'string', default: '10000' }, chunks: { type: 'string', default: '20' } },
});
const devices = Number(values.devices);
const chunks = Number(values.chunks);
if (!Number.isInteger(devices) || devices < 1 || !Number.isInteger(chunks) || chunks < 1) {
  console.error('--devices and --chunks must be positive whole numbers');
  process.exit(2);
}

const victim = deviceMac(Math.min(devices - 1, 7));
const entry = {
  ...entryWithoutRun(
    {
      name: `bench-${devices}`,
      options: { ...liveRunDefaults, seed: 1, brokerUrl: undefined, databaseUrl: undefined },
      expected: 'pass',
    },
    '',
  ),
  error: undefined,
  invariants: oneFailingDevice(victim),
  verdict: 'fail' as const,
  outcome: 'unmet' as const,
};
const history = fleetHistory(devices, chunks);
const dir = mkdtempSync(join(tmpdir(), 'camfleet-bench-report-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let t = performance.now();
const written = await writeReport(dir, [entry], [history]);
const writeMs = performance.now() - t;
const sizeMb = statSync(written.htmlPath).size / 1e6;
console.log(`devices: ${devices}, history events: ${history.length}`);
console.log(`report.html: ${sizeMb.toFixed(1)} MB, written in ${writeMs.toFixed(0)} ms`);

const chromium = findChromium();
if (chromium.path === undefined) {
  console.log(`browser: not measured (${chromium.reason})`);
  process.exit(0);
}
const browser = await launchChromium(chromium.path);
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  t = performance.now();
  await page.goto(`file://${written.htmlPath}`);
  await page.waitForFunction("document.body.dataset.ready === '1' || document.body.dataset.error", null, {
    timeout: 300_000,
  });
  const drawMs = performance.now() - t;
  const error = await page.evaluate<string | undefined>('document.body.dataset.error');
  if (error) throw new Error(`the page failed: ${error}`);
  t = performance.now();
  await page.fill('#find', victim);
  await page.press('#find', 'Enter');
  const focusMs = performance.now() - t;
  const nodes = await page.locator('#lanes svg *').count();
  console.log(`browser: drawn in ${drawMs.toFixed(0)} ms; a device brought into view in ${focusMs.toFixed(0)} ms`);
  console.log(`lanes chart: ${nodes} SVG elements (the window drawn, not every lane)`);
} finally {
  await browser.close();
}
