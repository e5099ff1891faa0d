// The two worlds' own promises beyond the MQTT contract (mqtt-contract.test.ts runs that through their factories):
// what they call themselves, which clock they carry, and that the sim world's clients really meet on the router it
// was given (and on no other).
import { describe, expect, test } from 'vitest';
import { liveWorld } from './live/live-world.ts';
import { realClock } from './live/real-clock.ts';
import { Router } from './sim/router.ts';
import { SIM_BROKER_LABEL, simWorld } from './sim/sim-world.ts';
import { settle } from './sim/test-support.ts';
import { VirtualClock } from './sim/virtual-clock.ts';

describe('liveWorld', () => {
  test('is live, on realClock by default or the clock it is given, and labels the broker without its password', () => {
    const world = liveWorld({ url: 'mqtt://camfleet:s3cret@broker.example:1883' });
    expect(world.mode).toBe('live');
    expect(world.clock).toBe(realClock);
    expect(world.brokerLabel).toBe('mqtt://camfleet:***@broker.example:1883');
    expect(world.brokerLabel).not.toContain('s3cret');
    const clock = new VirtualClock();
    expect(liveWorld({ url: 'mqtt://127.0.0.1:1883' }, clock).clock).toBe(clock);
  });

  test("a pipeline link to a broker that is not there fails, naming it redacted (the world's URL is used)", async () => {
    // Port 1 on loopback: nothing listens, the connect is refused at once.
    const world = liveWorld({ url: 'mqtt://u:p4ss@127.0.0.1:1' });
    const error = await world
      .pipelineLink({
        clientId: 'world-test',
        subscriptions: ['x'],
        log: () => {},
        onMessage: () => {},
        pressured: () => false,
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.message).toContain('cannot connect to the MQTT broker at mqtt://u:***@127.0.0.1:1');
    expect(error?.message).not.toContain('p4ss');
  });
});

describe('simWorld', () => {
  test('is sim, carries the clock it is given and calls its broker sim://router', () => {
    const clock = new VirtualClock();
    const world = simWorld(new Router(), clock);
    expect(world.mode).toBe('sim');
    expect(world.clock).toBe(clock);
    expect(world.brokerLabel).toBe(SIM_BROKER_LABEL);
    expect(SIM_BROKER_LABEL).toBe('sim://router');
  });

  test("a device's publish reaches a pipeline link on the same router, and only there", async () => {
    const router = new Router();
    const other = new Router();
    const world = simWorld(router, new VirtualClock());
    const got: string[] = [];
    const gotElsewhere: string[] = [];
    const linkOptions = (into: string[]) => ({
      clientId: 'pipeline',
      subscriptions: ['ESP32CAM/+/status'],
      log: () => {},
      onMessage: (topic: string, payload: Buffer) => into.push(`${topic} ${payload.toString()}`),
      pressured: () => false,
    });
    const link = await world.pipelineLink(linkOptions(got));
    const elsewhere = await simWorld(other, new VirtualClock()).pipelineLink(linkOptions(gotElsewhere));
    const device = world.deviceTransport(
      { clientId: 'B8F862000001', qos: 1, connectTimeoutMs: 1 },
      { onMessage: () => {}, onLost: () => {} },
    );
    await device.connect(['ESP32CAM/B8F862000001/cmd']);
    expect(device.connected).toBe(true);
    expect(router.session('B8F862000001')?.subscriptions).toEqual([['ESP32CAM/B8F862000001/cmd', 1]]);
    device.publish('ESP32CAM/B8F862000001/status', 'hello');
    await settle();
    expect(got).toEqual(['ESP32CAM/B8F862000001/status hello']);
    expect(gotElsewhere).toEqual([]);
    await device.disconnect();
    expect(router.session('B8F862000001')).toBeUndefined();
    await link.end();
    await elsewhere.end();
  });
});
