// Faults at logical points in sim runs (issue 8, "Faults at logical points": exact in sim): a reboot after chunk K
// of image N of device D strikes exactly there, the device resumes, `fixed` passes and `legacy-reset-count` fails I4
// every time; a counter reset before wake W reuses a name at exactly that wake; a point that cannot strike leaves
// E1 unknown. Devices are named by their 1-based index in the fleet: the test finds device D's MAC as the fleet
// draws it (fleetMacs on the run's `fleet` → `macs` streams).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FIRMWARE_CONFIG_DEFAULTS } from '../../simulator/firmware/index.ts';
import { primaryTarget } from '../../test/databases.ts';
import type { HistoryEvent } from '../history/events.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import { parseFaultPoint } from '../nemesis/fault-points.ts';
import type { LiveRunOptions } from './run-options.ts';
import { runMacs, simRunHashed, simSmallRun } from './sim-run-fixture.ts';
import { type SimRunResult } from './sim-run.ts';

const databaseUrl = primaryTarget().server?.url;
if (databaseUrl === undefined) throw new Error('no database server for tests');
const dir = mkdtempSync(join(tmpdir(), 'camfleet-sim-points-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 3 devices × 2 images × 20 KB (20 chunks of 1024 bytes each), no drawn faults: only the points act. */
function withPoints(points: readonly string[], more: Partial<LiveRunOptions> = {}): LiveRunOptions {
  return {
    ...simSmallRun,
    databaseUrl,
    devices: 3,
    faults: buildFaultPlan('none', { points: points.map(parseFaultPoint) }),
    ...more,
  };
}

const simRun = (options: LiveRunOptions) => simRunHashed(options, dir);

/** The MAC of device `index` (1-based), as the run's fleet draws it. */
const macOf = (options: LiveRunOptions, index: number) => runMacs(options)[index - 1];

const verdictOf = (result: SimRunResult, id: string) => result.verdicts.find((v) => v.id === id);
const seqOf = (events: readonly HistoryEvent[], match: (e: HistoryEvent) => boolean) => events.find(match)?.seq;

describe('faults at logical points in a sim run', () => {
  const reboot = 'reboot:device=2,image=1,after-chunks=5';

  test('device 2 reboots after chunk 5 of image 1: exactly there, it resumes, fixed passes, one seed one history', async () => {
    const options = withPoints([reboot]);
    const first = await simRun(options);
    const { result } = first;
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    expect(verdictOf(result, 'E1')?.summary).toContain('1 fault points struck');
    const events = result.history.events;
    const mac = macOf(options, 2);
    const struck = result.history.ofType('point_struck');
    expect(struck).toEqual([expect.objectContaining({ point: reboot, target: mac })]);
    // The point's own nemesis event, right after: chunk id 4 (the fifth chunk) of device 2's first capture.
    const nemesis = result.history.ofType('nemesis');
    expect(nemesis).toHaveLength(1);
    expect(nemesis[0]).toMatchObject({ fault: 'reboot', target: mac });
    expect(nemesis[0]?.detail).toBe(`point ${reboot}: wake 1: image_1.jpg (image 1) after chunk 4 (RAM lost, SD kept)`);
    expect(nemesis[0]?.seq).toBe((struck[0]?.seq ?? 0) + 1);
    const firstCapture = result.history.ofType('device_captured').find((e) => e.capture.mac === mac)?.capture;
    expect(firstCapture?.imageName).toBe('image_1.jpg');
    // Its one metadata before the cut, none while it boots, the next one as it is back (the firmware's bootMs,
    // 1000 ms later on the virtual clock, plus its HELLO's few ms on the radio), still in wake 1; then the image is
    // acknowledged and leaves the queue.
    const sent = result.history
      .ofType('device_sent_metadata')
      .filter((e) => e.mac === mac && e.sha256 === firstCapture?.sha256);
    const afterStrikeMs = sent.map((e) => e.atMs - (struck[0]?.atMs ?? 0));
    expect(afterStrikeMs).toHaveLength(2);
    expect(afterStrikeMs[0]).toBe(0);
    expect(afterStrikeMs[1]).toBeGreaterThanOrEqual(FIRMWARE_CONFIG_DEFAULTS.bootMs);
    expect(afterStrikeMs[1]).toBeLessThan(FIRMWARE_CONFIG_DEFAULTS.bootMs + 50);
    const wakes = result.history.ofType('device_wake').filter((e) => e.mac === mac && e.seq < (sent[1]?.seq ?? 0));
    expect(wakes.map((e) => e.wake)).toEqual([1]);
    const dequeued = seqOf(
      events,
      (e) => e.type === 'device_dequeued' && e.mac === mac && e.sha256 === firstCapture?.sha256,
    );
    expect(dequeued).toBeGreaterThan(sent[1]?.seq ?? Infinity);
    const again = await simRun(options);
    expect(again.sha256).toBe(first.sha256);
  });

  test('the same point with legacy-reset-count fails I4 (the resume resets the count), every time', async () => {
    const options = withPoints([reboot], { pipeline: 'legacy-reset-count' });
    const runsOf = [await simRun(options), await simRun(options)];
    for (const { result } of runsOf) {
      expect(verdictOf(result, 'I4')?.verdict).toBe('fail');
      // Exactly the point's progress: chunks 0..4 of device 2's image 1 were stored before it lost power, and its
      // resume set the count back to 0.
      expect(verdictOf(result, 'I4')?.offending).toEqual([
        expect.objectContaining({
          kind: 'lowered',
          mac: macOf(options, 2),
          imageName: 'image_1.jpg',
          oldReceivedChunks: 5,
          newReceivedChunks: 0,
        }),
      ]);
      expect(verdictOf(result, 'E1')?.verdict).toBe('pass');
    }
    expect(runsOf[1]?.sha256).toBe(runsOf[0]?.sha256);
  });

  test('the counter resets before wake 2 of device 3: a name is reused at exactly that wake, fixed keeps both', async () => {
    const point = 'counter-reset:device=3,wake=2';
    const options = withPoints([point]);
    const { result } = await simRun(options);
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    const mac = macOf(options, 3);
    const events = result.history.events;
    const wake2 = seqOf(events, (e) => e.type === 'device_wake' && e.mac === mac && e.wake === 2) ?? -1;
    const nemesis = result.history.ofType('nemesis');
    expect(nemesis).toEqual([
      expect.objectContaining({
        fault: 'counter_reset',
        target: mac,
        detail: `point ${point}: wake 2: flash counter 1 -> 0`,
      }),
    ]);
    // Recorded as the wake starts, before the wake itself.
    expect(nemesis[0]?.seq).toBeLessThan(wake2);
    const captures = result.history.ofType('device_captured').filter((e) => e.capture.mac === mac);
    expect(captures.map((e) => e.capture.imageName)).toEqual(['image_1.jpg', 'image_1.jpg']);
    // The second capture under the reused name is the one of wake 2; the pipeline told it from the first.
    const secondCapture = seqOf(events, (e) => e.type === 'device_captured' && e === captures[1]) ?? -1;
    expect(secondCapture).toBeGreaterThan(wake2);
    const reused = result.history.ofType('pipeline_name_reused').filter((e) => e.mac === mac);
    expect(reused.length).toBeGreaterThan(0);
    // No other device reused a name: the point struck device 3 only.
    const otherNames = result.history
      .ofType('device_captured')
      .filter((e) => e.capture.mac !== mac)
      .map((e) => e.capture.imageName);
    expect(otherNames.filter((n) => n === 'image_1.jpg')).toHaveLength(2);
  });

  test('a point that cannot strike leaves E1 unknown, never pass', async () => {
    const options = withPoints([
      'reboot:device=1,image=1,after-chunks=500',
      'counter-reset:device=2,wake=40',
      'reboot:device=9,image=1,after-chunks=1',
    ]);
    const { result } = await simRun(options);
    expect(result.history.ofType('point_struck')).toEqual([]);
    const e1 = verdictOf(result, 'E1');
    expect(e1?.verdict).toBe('unknown');
    expect(e1?.summary).toContain(
      'fault point reboot:device=1,image=1,after-chunks=500 never struck (its image 1 never had chunk 499 sent in the safety phase)',
    );
    expect(e1?.summary).toContain('fault point counter-reset:device=2,wake=40 never struck (the device had');
    expect(e1?.summary).toContain(
      'fault point reboot:device=9,image=1,after-chunks=1 never struck (the fleet has 3 devices)',
    );
    expect(result.verdict).toBe('unknown');
  });

  test('the pipeline crashes after the commit of device 2 image 2 and before its ACK: exactly there, the restarted pipeline sends the owed ACK, fixed passes, one seed one history', async () => {
    const options = withPoints(['crash-before-ack:device=2,image=2']);
    const first = await simRun(options);
    const { result } = first;
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    const mac = macOf(options, 2);
    const events = result.history.events;
    const struck = result.history.ofType('point_struck');
    expect(struck).toEqual([expect.objectContaining({ point: 'crash-before-ack:device=2,image=2', target: mac })]);
    // Its second capture's name, committed right before the strike, and no ACK for it from the crashed instance.
    const name = result.history.ofType('device_captured').filter((e) => e.capture.mac === mac)[1]?.capture.imageName;
    expect(name).toBeDefined();
    const struckSeq = struck[0]?.seq ?? -1;
    const committed = events.filter(
      (e) => e.type === 'pipeline_committed' && e.mac === mac && e.imageName === name && e.seq < struckSeq,
    );
    expect(committed).toHaveLength(1);
    const acks = result.history.ofType('pipeline_acked').filter((e) => e.mac === mac && e.imageName === name);
    expect(acks.every((a) => a.seq > struckSeq)).toBe(true);
    expect(acks.map((a) => a.basis)).toContain('recovered');
    expect(result.faultsInjected['pipeline_restart']).toBe(1);
    const again = await simRun(options);
    expect(again.sha256).toBe(first.sha256);
  });

  test('a crash point whose image is never completed is missed: E1 unknown', async () => {
    const { result } = await simRun(withPoints(['crash-before-ack:device=9,image=1']));
    expect(result.history.ofType('point_struck')).toEqual([]);
    expect(verdictOf(result, 'E1')?.summary).toContain(
      'fault point crash-before-ack:device=9,image=1 never struck (no such image was completed during the safety phase)',
    );
    expect(result.verdict).toBe('unknown');
  });
});
