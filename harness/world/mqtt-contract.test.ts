// The MQTT contract (mqtt-contract.ts) run against both brokers a world can give the fleet and the pipeline, through
// the World seam's own factories (world.ts: deviceTransport, pipelineLink), as the fleet and the pipeline get them:
// (a) liveWorld over aedes in this process over TCP (mqtt.js: createMqttTransport, connectMqttLink);
// (b) simWorld over the in-memory router (its adapters createDeviceTransport, connectRouterLink).
//
// Router-only, in harness/world/sim/router*.test.ts, because aedes legitimately behaves otherwise or cannot show it:
// - persistent-session redelivery with DUP and takeover of a persistent session: our adapters always connect with a
//   clean session (as the firmware and the pipeline do), and DUP is not visible through them;
// - Mosquitto's queue limits (20 in flight, 1000 queued, drops counted): aedes has no such limit;
// - restart with persistence: aedes here keeps everything in memory and loses it all on restart;
// - `$` topics (§4.7.2): aedes only exempts `$SYS/` from leading wildcards and refuses client publishes there;
// - the stepping API (deliverable()/deliver()) and the delivery filter.
import { afterEach } from 'vitest';
import type { MqttLink } from '../pipeline/mqtt-link.ts';
import type { DeviceTransport } from '../../simulator/transport/mqtt-transport.ts';
import { startEmbeddedBroker } from './broker.ts';
import { liveWorld } from './live/live-world.ts';
import { realClock } from './live/real-clock.ts';
import { describeMqttContract, type MqttBrokerUnderTest } from './mqtt-contract.ts';
import { Router } from './sim/router.ts';
import { simWorld } from './sim/sim-world.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Closes what a test attached, whatever the broker. */
function tracker() {
  const devices: DeviceTransport[] = [];
  const links: MqttLink[] = [];
  return {
    device<T extends DeviceTransport>(t: T): T {
      devices.push(t);
      return t;
    },
    async link(l: Promise<MqttLink>): Promise<MqttLink> {
      const made = await l;
      links.push(made);
      return made;
    },
    async close(): Promise<void> {
      await Promise.all(devices.map((d) => d.disconnect()));
      await Promise.all(links.map((l) => l.destroy()));
    },
  };
}

describeMqttContract('aedes over TCP with mqtt.js', async (): Promise<MqttBrokerUnderTest> => {
  const broker = await startEmbeddedBroker();
  const world = liveWorld(broker);
  const attached = tracker();
  return {
    device: (clientId, qos, events) =>
      attached.device(world.deviceTransport({ clientId, qos, connectTimeoutMs: 5_000 }, events)),
    link: (o) => attached.link(world.pipelineLink({ log: () => {}, ...o })),
    // Bytes already written to a socket on this machine arrive well within this; a late one could only make a
    // "did not arrive" check pass wrongly, never fail wrongly.
    settle: () => sleep(150),
    restart: () => broker.restart(50),
    close: async () => {
      await attached.close();
      await broker.stop();
    },
  };
});

const routerTimers = new Set<ReturnType<typeof setTimeout>>();
afterEach(() => {
  for (const t of routerTimers) clearTimeout(t);
  routerTimers.clear();
});

describeMqttContract('in-memory router', (): Promise<MqttBrokerUnderTest> => {
  // Auto delivery; real timers only for what mqtt.js does on a timer too (pressure poll, reconnect period).
  const router = new Router({
    timers: {
      setTimeout: (fn, afterMs) => {
        const t = setTimeout(() => {
          routerTimers.delete(t);
          fn();
        }, afterMs);
        routerTimers.add(t);
      },
    },
  });
  // The clock is only the world's label here: the router's own timers are the ones above.
  const world = simWorld(router, realClock);
  const attached = tracker();
  return Promise.resolve({
    device: (clientId, qos, events) =>
      attached.device(world.deviceTransport({ clientId, qos, connectTimeoutMs: 5_000 }, events)),
    link: (o) => attached.link(world.pipelineLink({ log: () => {}, ...o })),
    settle: () => sleep(30), // a few of the 5 ms pressure polls; deliveries themselves are microtasks
    restart: () => {
      router.restart();
      return Promise.resolve();
    },
    close: () => attached.close(),
  });
});
