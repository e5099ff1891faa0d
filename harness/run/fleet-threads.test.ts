// The fleet on threads of its own (fleet-threads.ts), live on the embedded broker: the same devices as on the run's
// thread (same seed, same captures), their events in the run's history in each device's order, the counters summed
// over the threads, device faults (points and the seeded mix) striking on whichever thread holds the device, and the
// checker catching a broken pipeline from what the threads recorded.
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { buildFaultPlan, faultMixes } from '../nemesis/fault-plan.ts';
import { parseFaultPoint } from '../nemesis/fault-points.ts';
import { fleetThreadsFor, FLEET_THREADS_MIN_DEVICES } from './fleet-threads.ts';
import { runLive } from './live-run.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';
import { runMacs } from './sim-run-fixture.ts';

const options: LiveRunOptions = {
  ...liveRunDefaults,
  devices: 9,
  imagesPerDevice: 2,
  imageKbMean: 12,
  seed: 20261205,
  brokerUrl: undefined,
  databaseUrl: primaryTarget().server?.kind === 'external' ? primaryTarget().server?.url : undefined,
  timeBudgetMs: 60_000,
  fleetThreads: 3,
};
const macs = runMacs(options);

function failing(result: Awaited<ReturnType<typeof runLive>>) {
  return result.verdicts.filter((v) => v.verdict !== 'pass');
}

describe('the fleet on threads of its own', () => {
  test('3 threads simulate the same devices as the run thread: same captures, every event of each device in order, counters summed', async () => {
    const threaded = await runLive(options);
    const inThread = await runLive({ ...options, fleetThreads: 0 });
    for (const result of [threaded, inThread]) expect(failing(result), JSON.stringify(failing(result))).toEqual([]);
    const captures = (r: typeof threaded) =>
      r.history
        .ofType('device_captured')
        .map((e) => `${e.capture.mac} ${e.capture.imageName} ${e.capture.sha256}`)
        .sort();
    expect(captures(threaded)).toEqual(captures(inThread));
    expect(captures(threaded)).toHaveLength(18);
    expect(new Set(threaded.history.ofType('device_captured').map((e) => e.capture.mac))).toEqual(new Set(macs));
    // Each device's own story in order: its wakes numbered 1, 2, … as it lived them.
    for (const mac of macs) {
      const wakes = threaded.history
        .ofType('device_wake')
        .filter((e) => e.mac === mac)
        .map((e) => e.wake);
      expect(wakes).toEqual(wakes.map((_w, i) => i + 1));
    }
    // The run's counters are the threads' summed.
    expect(threaded.fleet.captured).toBe(18);
    expect(threaded.fleet.acked).toBe(18);
    expect(threaded.fleet.devicesDone).toBe(9);
    expect(threaded.fleet.chunksSent).toBe(inThread.fleet.chunksSent);
  });

  test("device faults strike on the thread that holds the device: a point on device 8 (the third thread's) and the default mix's", async () => {
    const reboot = 'reboot:device=8,image=1,after-chunks=3';
    const result = await runLive({
      ...options,
      // The default mix's device faults (its server and broker faults fire by progress, which this test is not about).
      faults: buildFaultPlan('none', { device: faultMixes.default.device, points: [parseFaultPoint(reboot)] }),
    });
    expect(failing(result), JSON.stringify(failing(result))).toEqual([]);
    // Recorded once by the run, struck once by the thread.
    expect(result.history.ofType('point_planned')).toHaveLength(1);
    expect(result.history.ofType('nemesis').filter((e) => (e.detail ?? '').startsWith(`point ${reboot}`))).toEqual([
      expect.objectContaining({ fault: 'reboot', target: macs[7] }),
    ]);
    // The mix's draws (per device, from the seed) struck too: every thread built its devices' filters.
    expect(
      result.history.ofType('nemesis').filter((e) => !(e.detail ?? '').startsWith('point ')).length,
    ).toBeGreaterThan(0);
    expect(result.fleet.faultsInjected).toBe(result.history.ofType('nemesis').length);
  });

  test('the checker catches legacy-insert from what the threads recorded: double sends → duplicate rows (I1 fails)', async () => {
    const result = await runLive({
      ...options,
      pipeline: 'legacy-insert',
      stage: 'base',
      faults: buildFaultPlan('none', { device: { doubleSendRate: 1 } }),
    });
    expect(result.verdicts.find((v) => v.id === 'I1')?.verdict).toBe('fail');
    expect(result.verdict).toBe('fail');
  });

  test('how many threads: as asked, none for a small fleet by default, never more than devices', () => {
    expect(fleetThreadsFor({ fleetThreads: 3 }, 9)).toBe(3);
    expect(fleetThreadsFor({ fleetThreads: 4 }, 2)).toBe(2);
    expect(fleetThreadsFor({ fleetThreads: 0 }, 10_000)).toBe(0);
    expect(fleetThreadsFor({}, FLEET_THREADS_MIN_DEVICES - 1)).toBe(0);
    expect(fleetThreadsFor({}, FLEET_THREADS_MIN_DEVICES)).toBeGreaterThanOrEqual(1);
  });
});
