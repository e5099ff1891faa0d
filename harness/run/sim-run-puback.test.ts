// The drop-puback fault point in sim runs (nemesis/puback-points.ts over the router's PUBACK filter): the broker
// drops the PUBACK of exactly chunk C (or the metadata) of device D's image N, once; the message still reaches the
// pipeline, so `fixed` passes every invariant; one seed gives one history. A point that cannot strike leaves E1
// unknown. Same fixture as sim-run-points.test.ts: 3 devices × 2 images × 20 chunks, no drawn faults.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import { parseFaultPoint } from '../nemesis/fault-points.ts';
import type { LiveRunOptions } from './run-options.ts';
import { runMacs, simRunHashed, simSmallRun } from './sim-run-fixture.ts';
import { type SimRunResult } from './sim-run.ts';

const databaseUrl = primaryTarget().server?.url;
if (databaseUrl === undefined) throw new Error('no database server for tests');
const dir = mkdtempSync(join(tmpdir(), 'camfleet-sim-puback-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withPoints(points: readonly string[]): LiveRunOptions {
  return {
    ...simSmallRun,
    databaseUrl,
    devices: 3,
    faults: buildFaultPlan('none', { points: points.map(parseFaultPoint) }),
  };
}

const simRun = (options: LiveRunOptions) => simRunHashed(options, dir);

const macOf = (options: LiveRunOptions, index: number) => runMacs(options)[index - 1];
const verdictOf = (result: SimRunResult, id: string) => result.verdicts.find((v) => v.id === id);

describe('the drop-puback fault point in a sim run', () => {
  test('the PUBACK of chunk 5 of device 2 image 1 is dropped, once; fixed passes; one seed one history', async () => {
    const point = 'drop-puback:device=2,image=1,chunk=5';
    const options = withPoints([point]);
    const first = await simRun(options);
    const { result } = first;
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    expect(verdictOf(result, 'E1')?.summary).toContain('1 fault points struck');
    const mac = macOf(options, 2);
    const struck = result.history.ofType('point_struck');
    expect(struck).toEqual([expect.objectContaining({ point, target: mac })]);
    const nemesis = result.history.ofType('nemesis');
    expect(nemesis).toEqual([
      expect.objectContaining({
        fault: 'puback_dropped',
        target: mac,
        detail: `point ${point}: image_1.jpg (image 1) chunk 5`,
      }),
    ]);
    expect(nemesis[0]?.seq).toBe((struck[0]?.seq ?? 0) + 1);
    // Struck after device 2 captured its image 1 and before that image left its queue (acknowledged).
    const capture = result.history.ofType('device_captured').find((e) => e.capture.mac === mac)?.capture;
    const dequeued = result.history
      .ofType('device_dequeued')
      .find((e) => e.mac === mac && e.sha256 === capture?.sha256);
    expect(dequeued?.seq).toBeGreaterThan(struck[0]?.seq ?? Infinity);
    expect(result.faultsInjected['puback_dropped']).toBe(1);
    const again = await simRun(options);
    expect(again.sha256).toBe(first.sha256);
  });

  test("without chunk= it is the metadata's PUBACK", async () => {
    const point = 'drop-puback:device=3,image=2';
    const options = withPoints([point]);
    const { result } = await simRun(options);
    expect(result.verdicts.filter((v) => v.verdict !== 'pass')).toEqual([]);
    expect(result.history.ofType('nemesis')).toEqual([
      expect.objectContaining({
        fault: 'puback_dropped',
        target: macOf(options, 3),
        detail: `point ${point}: image_2.jpg (image 2) its metadata`,
      }),
    ]);
  });

  test('a drop-puback point that cannot strike leaves E1 unknown', async () => {
    const { result } = await simRun(withPoints(['drop-puback:device=1,image=1,chunk=500']));
    expect(result.history.ofType('point_struck')).toEqual([]);
    const e1 = verdictOf(result, 'E1');
    expect(e1?.verdict).toBe('unknown');
    expect(e1?.summary).toContain(
      'fault point drop-puback:device=1,image=1,chunk=500 never struck (no such message of device 1 reached the broker during the safety phase)',
    );
    expect(result.verdict).toBe('unknown');
  });
});
