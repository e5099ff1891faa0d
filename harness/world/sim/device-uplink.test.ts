// A device's uplink in the sim world (device-transport.ts): its publishes take virtual time to leave it, in order,
// each for its size over the radio's throughput; a disconnect lets the queue go out first; a session the broker
// ends loses what had not gone out. Without an uplink, a publish reaches the router at once.
import { describe, expect, test } from 'vitest';
import { createDeviceTransport } from './device-transport.ts';
import { Router } from './router.ts';
import { recordingDevice, settle } from './test-support.ts';
import { VirtualClock } from './virtual-clock.ts';

const BYTES_PER_MS = 10;
const TOPIC = 't'; // 1 byte; with the 6 bytes of overhead a payload of 93 bytes takes 10 ms

function world() {
  const clock = new VirtualClock(0);
  const router = new Router({ timers: clock });
  const sub = recordingDevice(router, 'sub');
  const pub = createDeviceTransport(
    router,
    { clientId: 'pub', qos: 1, uplink: { clock, bytesPerMs: BYTES_PER_MS } },
    { onMessage: () => {}, onLost: () => {} },
  );
  return { clock, router, sub, pub };
}

const payload = (tag: string) => tag.padEnd(93, '.');

describe('device uplink on the virtual clock', () => {
  test('each publish holds the radio for its size, in order', async () => {
    const { clock, sub, pub } = world();
    await sub.connect([TOPIC]);
    await pub.connect([]);
    pub.publish(TOPIC, payload('a'));
    pub.publish(TOPIC, payload('b'));
    await settle();
    expect(sub.got).toEqual([]);
    clock.advanceTo(9);
    await settle();
    expect(sub.got).toEqual([]);
    clock.advanceTo(10);
    await settle();
    expect(sub.got.map((g) => g.slice(2, 3))).toEqual(['a']);
    clock.advanceTo(20);
    await settle();
    expect(sub.got.map((g) => g.slice(2, 3))).toEqual(['a', 'b']);
    // An idle radio starts from now, not from when it was last busy.
    clock.advanceTo(100);
    pub.publish(TOPIC, payload('c'));
    clock.advanceTo(109);
    await settle();
    expect(sub.got).toHaveLength(2);
    clock.advanceTo(110);
    await settle();
    expect(sub.got).toHaveLength(3);
  });

  test('a disconnect sends what is queued first, then closes', async () => {
    const { clock, sub, pub, router } = world();
    await sub.connect([TOPIC]);
    await pub.connect([]);
    pub.publish(TOPIC, payload('a'));
    pub.publish(TOPIC, payload('b'));
    let closed = false;
    const disconnected = pub.disconnect().then(() => (closed = true));
    expect(router.session('pub')?.connected).toBe(true);
    clock.advanceTo(20);
    await disconnected;
    expect(closed).toBe(true);
    await settle();
    expect(sub.got).toHaveLength(2);
    expect(router.session('pub')?.connected ?? false).toBe(false);
  });

  test('a disconnect without flush (the fleet shutdown) ends the session at once and drops what is queued', async () => {
    const { clock, sub, pub, router } = world();
    await sub.connect([TOPIC]);
    await pub.connect([]);
    pub.publish(TOPIC, payload('a'));
    await pub.disconnect({ flush: false });
    expect(router.session('pub')?.connected ?? false).toBe(false);
    clock.advanceTo(50);
    await settle();
    expect(sub.got).toEqual([]);
  });

  test('a session the broker ends loses what had not gone out', async () => {
    const { clock, sub, pub, router } = world();
    await sub.connect([TOPIC]);
    await pub.connect([]);
    pub.publish(TOPIC, payload('a'));
    pub.publish(TOPIC, payload('b'));
    clock.advanceTo(10);
    router.disconnectClient('pub');
    clock.advanceTo(30);
    await settle();
    expect(sub.got.map((g) => g.slice(2, 3))).toEqual(['a']);
  });

  test('without an uplink a publish reaches the router at once', async () => {
    const clock = new VirtualClock(0);
    const router = new Router({ timers: clock });
    const sub = recordingDevice(router, 'sub');
    await sub.connect([TOPIC]);
    const pub = recordingDevice(router, 'pub');
    await pub.connect();
    pub.transport.publish(TOPIC, payload('a'));
    await settle();
    expect(sub.got).toHaveLength(1);
  });
});
