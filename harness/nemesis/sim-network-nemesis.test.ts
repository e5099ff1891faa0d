// The network nemesis on the sim world's router, with scripted draws so each decision is known: each fault does to
// the subscriber what it does over aedes (network-nemesis.test.ts) and is recorded the same way — a drop is never
// seen, a duplicate is seen twice, a reordered message arrives behind the next one, a delayed one after delayMs of
// virtual time, a cut device session ends after its N-th publish — and uninstall() lets held messages go.
import { describe, expect, test } from 'vitest';
import { createRng, type Rng } from '../../simulator/random/prng.ts';
import { History } from '../history/history.ts';
import { Router } from '../world/sim/router.ts';
import { recordingDevice, settle } from '../world/sim/test-support.ts';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { faultMixes, type NetworkFaults } from './fault-plan.ts';
import { installSimNetworkNemesis } from './sim-network-nemesis.ts';

const MAC = 'B8F862E38636';
const PIPELINE = 'camfleet-pipeline-a-00000001';
/** Stacked 0.1 each: a draw of 0.05 drops, 0.15 duplicates, 0.25 reorders, 0.35 delays, 0.9 delivers. */
const rates: NetworkFaults = {
  ...faultMixes.none.network,
  dropRate: 0.1,
  duplicateRate: 0.1,
  reorderRate: 0.1,
  delayRate: 0.1,
  delayMs: 150,
};

/** An Rng whose next() gives these draws in order (then delivers). */
function scripted(draws: number[]): Rng {
  return { ...createRng(1), next: () => draws.shift() ?? 0.9 };
}

async function world(faults: NetworkFaults, draws: number[]) {
  const clock = new VirtualClock(0);
  const router = new Router({ delivery: 'manual', timers: clock });
  const history = new History(() => clock.nowMs());
  const nemesis = installSimNetworkNemesis(router, faults, scripted(draws), history, {
    pipelineClientIdPrefix: 'camfleet-pipeline',
    clock,
  });
  const pipeline = recordingDevice(router, PIPELINE);
  const device = recordingDevice(router, MAC);
  await Promise.all([pipeline.connect(['ESP32CAM/+/data']), device.connect()]);
  const deliverAll = () => {
    for (let ds = router.deliverable(); ds.length > 0; ds = router.deliverable()) router.deliver(ds[0]!);
  };
  const got = () => pipeline.got.map((line) => line.split(' ')[1]);
  const faultsRecorded = () =>
    history.ofType('nemesis').map((e) => `${e.fault} ${e.target ?? ''} ${e.detail ?? ''}`.trim());
  return { clock, router, nemesis, device, deliverAll, got, faultsRecorded };
}

describe('the network nemesis on the router', () => {
  test('drop, duplicate, reorder and delay each do what they say, recorded as over aedes', async () => {
    // Messages 1..5 from one device to the pipeline: reorder, deliver, delay, drop, duplicate.
    const w = await world(rates, [0.25, 0.9, 0.35, 0.05, 0.15]);
    for (const n of ['1', '2', '3', '4', '5']) w.device.transport.publish(`ESP32CAM/${MAC}/data`, n);
    w.deliverAll();
    // 1 held behind 2 (the reorder), 3 delayed, 4 dropped, 5 twice.
    expect(w.got()).toEqual(['2', '1', '5', '5']);
    w.clock.advanceBy(149);
    w.deliverAll();
    expect(w.got()).toHaveLength(4);
    w.clock.advanceBy(1);
    w.deliverAll();
    expect(w.got()).toEqual(['2', '1', '5', '5', '3']);
    const topic = `ESP32CAM/${MAC}/data`;
    expect(w.faultsRecorded()).toEqual([
      `reorder ${PIPELINE} ${topic}`,
      `delay ${PIPELINE} ${topic}`,
      `drop ${PIPELINE} ${topic}`,
      `duplicate ${PIPELINE} ${topic}`,
    ]);
    expect(w.nemesis.stats()).toMatchObject({ considered: 5, drop: 1, duplicate: 1, reorder: 1, delay: 1 });
  });

  test('a reorder that no later delivery overtakes within the hold is a delay; uninstall lets held ones go', async () => {
    const w = await world(rates, [0.25, 0.35]);
    w.device.transport.publish(`ESP32CAM/${MAC}/data`, '1');
    w.deliverAll();
    w.clock.advanceBy(250); // reorderHoldMsMax
    w.deliverAll();
    expect(w.got()).toEqual(['1']);
    expect(w.faultsRecorded()).toEqual([`delay ${PIPELINE} ESP32CAM/${MAC}/data`]);
    w.device.transport.publish(`ESP32CAM/${MAC}/data`, '2'); // delayed by 150 ms…
    w.deliverAll();
    w.nemesis.uninstall(); // …but the faults stop first
    w.deliverAll();
    expect(w.got()).toEqual(['1', '2']);
    w.device.transport.publish(`ESP32CAM/${MAC}/data`, '3'); // uninstalled: no draw, no fault
    w.deliverAll();
    expect(w.got()).toEqual(['1', '2', '3']);
    expect(w.nemesis.stats()).toMatchObject({ considered: 2, delay: 2, lostHeld: 0 });
  });

  test("a device session is cut right after its N-th publish; the pipeline's never is", async () => {
    // The device's connect (in world()) takes the first draw: 0 → cut after publish 1 (decideDisconnect). The
    // pipeline's connect draws nothing.
    const w = await world({ ...faultMixes.none.network, disconnectRate: 0.5 }, [0]);
    w.device.transport.publish(`ESP32CAM/${MAC}/data`, '1');
    w.device.transport.publish(`ESP32CAM/${MAC}/data`, '2'); // after the cut: never sent
    await settle();
    w.deliverAll();
    expect(w.got()).toEqual(['1']);
    expect(w.device.lost).toEqual(['connection closed by the broker (nemesis)']);
    expect(w.faultsRecorded()).toEqual([`disconnect ${MAC} after a publish`]);
    expect(w.nemesis.stats()).toMatchObject({ disconnect: 1 });
  });

  test('a held message whose subscriber is gone when it is due is lost, and counted', async () => {
    const w = await world(rates, [0.35]);
    w.device.transport.publish(`ESP32CAM/${MAC}/data`, '1');
    w.deliverAll();
    w.router.restart(); // every connection cut, the held message with them
    w.clock.advanceBy(150);
    expect(w.nemesis.stats()).toMatchObject({ delay: 1, lostHeld: 1 });
  });
});
