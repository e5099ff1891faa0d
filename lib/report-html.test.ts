// report.html in a real browser (headless Chromium, test/chromium.ts): it opens from disk with every network request
// refused, draws the lanes, highlights the device a failed invariant names and leads from its offending row to its
// lane; with 10,000 devices every lane is in the chart and at most a window of them is drawn. Screenshots are
// written beside the report (the path is printed) to be looked at.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runScenario } from './index.ts';
import { findChromium, launchChromium } from '../test/chromium.ts';
import { primaryTarget } from '../test/databases.ts';
import { tempDir } from '../test/temp-dir.ts';
import { entryWithoutRun } from '../harness/report/entry.ts';
import { writeReport } from '../harness/report/index.ts';
import { deviceMac, fleetHistory, oneFailingDevice } from '../harness/report/test-support.ts';
import { liveRunDefaults, type LiveRunOptions } from '../harness/run/run-options.ts';

const options: LiveRunOptions = { ...liveRunDefaults, seed: 1, brokerUrl: undefined, databaseUrl: undefined };
const found = findChromium();
if (found.path === undefined) console.warn(`report.html browser tests SKIPPED: ${found.reason}`);

interface PageState {
  readonly devices: number;
  readonly lanes: number;
  readonly lanesDrawn: readonly string[];
  readonly failing: readonly string[];
  readonly failingOnly: boolean;
  readonly focused: string | undefined;
}

describe.skipIf(found.path === undefined)(
  `report.html in headless Chromium${found.path === undefined ? ` (skipped: ${found.reason})` : ''}`,
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium(found.path ?? '');
    });
    afterAll(async () => {
      await browser?.close();
    });

    /** Opens a report with the network cut off; collects what the page tried to fetch and any error it raised. */
    async function open(file: string) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      await page.goto(`file://${file}`);
      // Page code is passed as text: this project's TypeScript has no DOM types.
      await page.waitForFunction("document.body.dataset.ready === '1' || document.body.dataset.error", null, {
        timeout: 60_000,
      });
      return { page, requests, errors };
    }

    const stateOf = (page: Page) => page.evaluate<PageState>('window.camfleetReport');

    /** The lanes chart's y-axis labels (device MACs) as drawn, with their colour. */
    const laneLabels = (page: Page) =>
      page.evaluate<{ mac: string; fill: string }[]>(`[...document.querySelectorAll('#lanes svg text')]
        .filter((t) => /^[0-9A-F]{12}$/.test(t.textContent))
        .map((t) => ({ mac: t.textContent, fill: t.getAttribute('fill') || '' }))`);

    test('a legacy run: lanes drawn, the failing device highlighted, its offending row leads to its lane', async () => {
      const dir = tempDir('camfleet-report-html-');
      // legacy-reset-count at one exact point: device 1 reboots mid-transfer and its resume lowers the count (I4).
      const result = await runScenario('reboot-resume-exact', {
        mode: 'sim',
        report: dir,
        databaseUrl: primaryTarget().server?.url,
      });
      expect(result.outcome).toBe('met');
      const i4 = result.invariants.find((v) => v.id === 'I4');
      expect(i4?.actual).toBe('fail');
      const victim = (i4?.offending[0] as { mac: string }).mac;
      const html = result.report?.htmlPath ?? '';
      expect(readFileSync(html, 'utf8')).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);

      const { page, requests, errors } = await open(html);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const state = await stateOf(page);
      expect(state).toMatchObject({ devices: 2, lanes: 2, failing: [victim] });
      expect(state.lanesDrawn).toHaveLength(2);
      // Drawn: both lanes' labels, the victim's in red; and shapes in the chart (spans and marks of two devices).
      const labels = await laneLabels(page);
      expect(labels.map((l) => l.mac).sort()).toEqual([...state.lanesDrawn].sort());
      expect(labels.find((l) => l.mac === victim)?.fill).toBe('#c62828');
      expect(labels.filter((l) => l.fill === '#c62828')).toHaveLength(1);
      expect(await page.locator('#lanes svg path').count()).toBeGreaterThan(10);
      // The I4 row names the victim: its link focuses the lane and lists the device's events (the reboot among them).
      await expect.poll(() => page.locator('tr[data-invariant="I4"] a.device-link').count()).toBeGreaterThan(0);
      await page.locator(`tr[data-invariant="I4"] a.device-link[data-mac="${victim}"]`).first().click();
      expect((await stateOf(page)).focused).toBe(victim);
      const deviceText = await page.locator('#device').innerText();
      expect(deviceText).toContain('fails I4');
      expect(deviceText).toMatch(/reboot/);
      expect(deviceText).toMatch(/re-sent image_1\.jpg/);
      // Its first burst was cut by the power loss after chunk 4 (the driver's device_sent_chunks event).
      expect(deviceText).toContain('image_1.jpg chunks 0–4');
      const shot = join(dir, 'report-legacy.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);
      // Only failing devices: one lane left, the victim's.
      await page.locator('#failing-only').check();
      expect(await stateOf(page)).toMatchObject({ lanes: 1, lanesDrawn: [victim], failingOnly: true });
      await page.close();
    });

    test('10,000 devices: every lane in the chart, at most 40 drawn; the failing one found and highlighted', async () => {
      const dir = tempDir('camfleet-report-10k-');
      const devices = 10_000;
      const victim = deviceMac(7_007); // one the history reboots mid-transfer
      const entry = {
        ...entryWithoutRun({ name: 'ten-thousand', options, expected: 'pass' }, ''),
        error: undefined,
        invariants: oneFailingDevice(victim),
        verdict: 'fail' as const,
        outcome: 'unmet' as const,
      };
      const startedMs = Date.now();
      const written = await writeReport(dir, [entry], [fleetHistory(devices)]);
      const writtenMs = Date.now() - startedMs;
      const { page, errors, requests } = await open(written.htmlPath);
      console.log(
        `10,000 devices: report.html ${(statSync(written.htmlPath).size / 1e6).toFixed(1)} MB written in ${writtenMs} ms, ready in the browser ${Date.now() - startedMs - writtenMs} ms`,
      );
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const state = await stateOf(page);
      expect(state).toMatchObject({ devices, lanes: devices, failing: [victim] });
      expect(state.lanesDrawn.length).toBe(40);
      // Virtualised: the chart's DOM holds the drawn window, not 10,000 lanes' shapes.
      expect(await page.locator('#lanes svg *').count()).toBeLessThan(3000);
      expect((await laneLabels(page)).length).toBe(40);
      await page.fill('#find', victim);
      await page.press('#find', 'Enter');
      const focused = await stateOf(page);
      expect(focused.focused).toBe(victim);
      expect(focused.lanesDrawn).toContain(victim);
      expect((await laneLabels(page)).find((l) => l.mac === victim)?.fill).toBe('#c62828');
      await page.locator('#failing-only').check();
      expect(await stateOf(page)).toMatchObject({ lanes: 1, lanesDrawn: [victim] });
      const shot = join(dir, 'report-10k.png');
      await page.locator('#failing-only').uncheck();
      await page.fill('#find', victim);
      await page.press('#find', 'Enter');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);
      await page.close();
    });
  },
);
