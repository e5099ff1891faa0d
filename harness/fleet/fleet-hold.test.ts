// Back-pressure from the pipeline to the fleet (FleetOptions.wakesHeld): while the pipeline is behind no device
// wakes, the fleet asks again every WAKE_HOLD_POLL_MS, and once it keeps up every device does its work.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startScriptedServer, startTestBroker, testFleet, type TestBroker } from './test-support.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.stop();
});

test('while wakes are held no device wakes; released, all 4 devices capture and are acknowledged', async () => {
  const server = await startScriptedServer(broker.url, 1);
  let held = true;
  let asked = 0;
  const { fleet, history } = testFleet(broker.url, {
    devices: 4,
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
    expect(fleet.counters.captured).toBe(4);
    expect(fleet.counters.acked).toBe(4);
    expect(new Set(history.ofType('device_wake').map((e) => e.mac)).size).toBe(4);
  } finally {
    await fleet.shutdown();
    await server.stop();
  }
});
