// The router's hooks for the sim network nemesis (harness/nemesis/sim-network-nemesis.ts): the filter's 'hold'
// verdict and release() (a reorder, a delay), and the observers a session cut counts publishes with.
import { describe, expect, test } from 'vitest';
import { Router, type Delivery } from './router.ts';
import { recordingDevice, settle } from './test-support.ts';
import { VirtualClock } from './virtual-clock.ts';

/** Delivers oldest first until nothing is deliverable, as auto mode would; returns the payloads in order. */
function deliverAll(router: Router): string[] {
  const order: string[] = [];
  for (let ds = router.deliverable(); ds.length > 0; ds = router.deliverable()) {
    order.push(ds[0]!.payload.toString());
    router.deliver(ds[0]!);
  }
  return order;
}

describe("the filter's 'hold' and release()", () => {
  test('a held message released while the next one is handed over arrives right behind it (a reorder)', async () => {
    const router = new Router({ delivery: 'manual' });
    const s = recordingDevice(router, 'S');
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['f']), p.connect()]);
    let heldId: number | undefined;
    const asked: string[] = [];
    router.setFilter((d: Delivery) => {
      asked.push(d.payload.toString());
      if (d.payload.toString() === '1') {
        heldId = d.id;
        return 'hold';
      }
      // The next delivery to the same subscriber lets the held one go, behind itself.
      if (heldId !== undefined) expect(router.release(heldId)).toBe(true);
      heldId = undefined;
      return 'deliver';
    });
    for (const n of ['1', '2', '3']) p.transport.publish('f', n);
    deliverAll(router);
    expect(s.got).toEqual(['f 2', 'f 1', 'f 3']);
    // The released message is not asked about again (the live nemesis lets its own re-publish through).
    expect(asked).toEqual(['1', '2', '3']);
    expect(router.stats()).toMatchObject({ held: 1, delivered: 3, filteredOut: 0 });
    // Its flight ended when it was held, and the released copy is never PUBACKed: nothing is left in flight.
    expect(router.session('S')).toMatchObject({ inflight: 0, queued: 0 });
  });

  test('a held message released after delayMs of virtual time arrives then, after later ones (a delay)', async () => {
    const clock = new VirtualClock(0);
    const router = new Router({ delivery: 'manual', timers: clock });
    const s = recordingDevice(router, 'S');
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['f']), p.connect()]);
    router.setFilter((d) => {
      if (d.payload.toString() !== '1') return 'deliver';
      router.later(() => router.release(d.id), 150);
      return 'hold';
    });
    for (const n of ['1', '2']) p.transport.publish('f', n);
    deliverAll(router);
    expect(s.got).toEqual(['f 2']);
    clock.advanceBy(149);
    expect(router.deliverable()).toEqual([]);
    clock.advanceBy(1);
    expect(deliverAll(router)).toEqual(['1']);
    expect(s.got).toEqual(['f 2', 'f 1']);
  });

  test('a held QoS 1 message frees its in-flight slot at once (its flight ended, as with drop)', async () => {
    const router = new Router({ delivery: 'manual', maxInflightMessages: 1 });
    const s = recordingDevice(router, 'S');
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['f']), p.connect()]);
    const held: number[] = [];
    router.setFilter((d) => {
      if (d.payload.toString() !== '1') return 'deliver';
      held.push(d.id);
      return 'hold';
    });
    for (const n of ['1', '2']) p.transport.publish('f', n);
    expect(router.session('S')).toMatchObject({ inflight: 1, queued: 1 });
    deliverAll(router);
    expect(s.got).toEqual(['f 2']);
    expect(router.release(held[0]!)).toBe(true);
    expect(router.release(held[0]!)).toBe(false); // once only
    deliverAll(router);
    expect(s.got).toEqual(['f 2', 'f 1']);
  });

  test('a held message whose subscriber went away is lost: release() says so and the router counts it', async () => {
    const router = new Router({ delivery: 'manual' });
    const s = recordingDevice(router, 'S');
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['f']), p.connect()]);
    let heldId = -1;
    router.setFilter((d) => {
      heldId = d.id;
      return 'hold';
    });
    p.transport.publish('f', '1');
    deliverAll(router);
    await s.transport.disconnect();
    await s.connect(['f']); // a new connection with the same client id does not inherit it
    router.setFilter(undefined);
    expect(router.release(heldId)).toBe(false);
    expect(deliverAll(router)).toEqual([]);
    expect(s.got).toEqual([]);
    expect(router.stats()).toMatchObject({ held: 1, lostInTransit: 1 });
  });
});

describe('observers', () => {
  test('see every connect and every publish (after routing), and may cut the publisher right there', async () => {
    const router = new Router({ delivery: 'manual' });
    const seen: string[] = [];
    const stop = router.observe({
      connected: (c) => seen.push(`connected ${c.clientId}`),
      published: (c, topic) => {
        seen.push(`published ${c.clientId} ${topic}`);
        if (topic === 'f/cut') router.disconnectClient(c.clientId, 'cut by the observer');
      },
    });
    const s = recordingDevice(router, 'S');
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['f/#']), p.connect()]);
    p.transport.publish('f/a', '1');
    p.transport.publish('f/cut', '2');
    p.transport.publish('f/after', '3'); // the session is gone: nothing is sent
    await settle();
    expect(p.lost).toEqual(['cut by the observer']);
    deliverAll(router);
    // The publish that triggered the cut was routed before it.
    expect(s.got).toEqual(['f/a 1', 'f/cut 2']);
    expect(seen).toEqual(['connected S', 'connected P', 'published P f/a', 'published P f/cut']);
    stop();
    await p.connect();
    expect(seen).toHaveLength(4);
  });
});
