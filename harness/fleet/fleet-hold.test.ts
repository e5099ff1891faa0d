// Back-pressure from the pipeline to the fleet (FleetOptions.wakesHeld): while the pipeline is behind no device
// wakes, the fleet asks again every WAKE_HOLD_POLL_MS, and once it keeps up every device does its work.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WAKE_HOLD_POLL_MS, WAKES_PER_POLL_PACED } from './fleet.ts';
import { startScriptedServer, startTestBroker, testFleet, type TestBroker } from './test-support.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.stop();
});

test('while wakes are held no device wakes; released, they wake paced (10 a poll) and all 12 capture and are acknowledged', async () => {
  const server = await startScriptedServer(broker.url, 1);
  let held = true;
  let asked = 0;
  const { fleet, history } = testFleet(broker.url, {
    devices: 12,
    concurrencyMax: 12,
    wakesHeld: () => {
      asked += 1;
      return held;
    },
  });
  try {
    const ran = fleet.run();
    // Until the fleet has asked a few times (each ask is a poll WAKE_HOLD_POLL_MS apart): nobody woke meanwhile.
    while (asked < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(history.ofType('device_wake')).toEqual([]);
    expect(fleet.counters.devicesAwake).toBe(0);
    expect(fleet.counters.pipelineHolds).toBe(1);
    held = false;
    const outcome = await ran;
    expect(outcome.aborted).toBe(false);
    expect(fleet.counters.captured).toBe(12);
    expect(fleet.counters.acked).toBe(12);
    const wakes = history.ofType('device_wake');
    expect(new Set(wakes.map((e) => e.mac)).size).toBe(12);
    // Paced: WAKES_PER_POLL_PACED wake, the next only a poll later (a timer never fires early).
    const first = wakes[0]?.atMs ?? 0;
    expect(wakes.filter((e) => e.atMs === first).length).toBeLessThanOrEqual(WAKES_PER_POLL_PACED);
    expect((wakes[WAKES_PER_POLL_PACED]?.atMs ?? 0) - first).toBeGreaterThanOrEqual(WAKE_HOLD_POLL_MS / 2);
  } finally {
    await fleet.shutdown();
    await server.stop();
  }
});
