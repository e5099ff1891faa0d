// The in-memory router's own semantics, beyond the contract it shares with aedes (harness/world/mqtt-contract.ts):
// stepping, QoS, persistent sessions and DUP, takeover, Mosquitto's queue limits, restart, the delivery filter.
import { describe, expect, test } from 'vitest';
import { connectRouterLink } from './router-link.ts';
import { BrokerDownError, Router, type Delivery, type RouterConnection } from './router.ts';
import { recordingDevice, settle } from './test-support.ts';

const topicsOf = (ds: readonly Delivery[]) => ds.map((d) => `${d.topic} ${d.payload.toString()}`);

/** A raw client with a pressure switch, for what the adapters do not show (held PUBACKs, persistent links). */
function pressuredClient(router: Router, clientId: string, clean: boolean) {
  const got: string[] = [];
  const state = { pressured: true };
  const connect = (): RouterConnection =>
    router.connect(clientId, clean, {
      receive: (topic, payload) => got.push(`${topic} ${payload.toString()}`),
      lost: () => {},
      pressured: () => state.pressured,
    });
  return { got, state, connect };
}

describe('stepping', () => {
  test('publish() never delivers; auto mode delivers in a microtask', async () => {
    const router = new Router();
    const s = recordingDevice(router, 'S');
    const p = recordingDevice(router, 'P');
    await s.connect(['t/#']);
    await p.connect();
    p.transport.publish('t/1', 'a');
    expect(s.got).toEqual([]);
    await settle();
    expect(s.got).toEqual(['t/1 a']);
  });

  test('deliverable() lists FIFO heads oldest first; deliver() hands exactly that one', async () => {
    const router = new Router({ delivery: 'manual' });
    const s = recordingDevice(router, 'S');
    const [p1, p2] = [recordingDevice(router, 'P1'), recordingDevice(router, 'P2')];
    await Promise.all([s.connect(['t/#']), p1.connect(), p2.connect()]);
    p1.transport.publish('t/a', '1');
    p1.transport.publish('t/a', '2');
    p2.transport.publish('t/b', '1');
    await settle();
    expect(s.got).toEqual([]); // manual: nothing moves by itself
    const first = router.deliverable();
    expect(topicsOf(first)).toEqual(['t/a 1', 't/b 1']);
    router.deliver(first[1]!);
    expect(s.got).toEqual(['t/b 1']);
    expect(topicsOf(router.deliverable())).toEqual(['t/a 1']);
    expect(() => router.deliver(first[1]!)).toThrow(/not deliverable/);
    expect(router.drain()).toBe(2);
    expect(s.got).toEqual(['t/b 1', 't/a 1', 't/a 2']);
  });

  test('delivered QoS is min(publish, subscription); overlapping filters give one delivery at their highest QoS', async () => {
    const router = new Router({ delivery: 'manual' });
    const s0 = recordingDevice(router, 'S0', { qos: 0 });
    const s1 = recordingDevice(router, 'S1', { qos: 1 });
    const p0 = recordingDevice(router, 'P0', { qos: 0 });
    const p1 = recordingDevice(router, 'P1', { qos: 1 });
    await Promise.all([s0.connect(['t']), s1.connect(['t']), p0.connect(), p1.connect()]);
    p1.transport.publish('t', 'x');
    p0.transport.publish('t', 'y');
    const qos = router.deliverable().map((d) => `${d.subscriberId}<-${d.publisherId}:${d.qos}`);
    expect(qos.sort()).toEqual(['S0<-P0:0', 'S0<-P1:0', 'S1<-P0:0', 'S1<-P1:1']);

    const both = router.connect('B', true, { receive: () => {}, lost: () => {} });
    router.subscribe(both, [
      { filter: 'o/#', qos: 0 },
      { filter: 'o/+', qos: 1 },
    ]);
    router.drain();
    p1.transport.publish('o/x', 'z');
    expect(router.deliverable().map((d) => [d.subscriberId, d.qos])).toEqual([['B', 1]]);
  });

  test('$ topics are not matched by a leading wildcard; a topic name with a wildcard is refused', async () => {
    const router = new Router();
    const all = recordingDevice(router, 'ALL');
    const sys = recordingDevice(router, 'SYS');
    const p = recordingDevice(router, 'P');
    await Promise.all([all.connect(['#', '+/x']), sys.connect(['$SYS/#']), p.connect()]);
    p.transport.publish('$SYS/x', '1');
    p.transport.publish('a/x', '2');
    await settle();
    expect(all.got).toEqual(['a/x 2']);
    expect(sys.got).toEqual(['$SYS/x 1']);
    expect(() => p.transport.publish('a/+', '3')).toThrow(/invalid topic name/);
    await expect(recordingDevice(router, 'BAD').connect(['a/#/b'])).rejects.toThrow(/Invalid topic/);
  });

  test('unsubscribe: what was already routed still arrives (§3.10.4), nothing after', async () => {
    const router = new Router({ delivery: 'manual' });
    const c = router.connect('S', true, { receive: () => {}, lost: () => {} });
    router.subscribe(c, [{ filter: 'u', qos: 1 }]);
    const p = recordingDevice(router, 'P');
    await p.connect();
    p.transport.publish('u', '1');
    router.unsubscribe(c, ['u']);
    p.transport.publish('u', '2');
    expect(topicsOf(router.deliverable())).toEqual(['u 1']);
  });
});

describe('persistent sessions', () => {
  test('un-PUBACKed QoS 1 messages come again with DUP after a reconnect, then what was queued meanwhile', async () => {
    const router = new Router({ delivery: 'manual' });
    const seen: Array<[string, boolean]> = [];
    router.setFilter((d) => {
      seen.push([d.payload.toString(), d.dup]);
      return 'deliver';
    });
    const s = recordingDevice(router, 'S', { cleanSession: false });
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['q/#']), p.connect()]);
    for (const n of [1, 2, 3]) p.transport.publish('q/n', `${n}`);
    router.deliver(router.deliverable()[0]!); // 1 arrives and is PUBACKed; 2 and 3 are on the wire
    expect(router.disconnectClient('S')).toBe(true);
    await settle();
    expect(s.lost).toHaveLength(1);
    p.transport.publish('q/n', '4');
    p.transport.publish('q/n', '5');
    expect(router.session('S')).toMatchObject({ connected: false, inflight: 2, queued: 2 });

    await s.connect(); // no SUBSCRIBE: the session kept its subscription
    expect(router.deliverable().map((d) => [d.payload.toString(), d.dup])).toEqual([['2', true]]);
    router.drain();
    expect(s.got).toEqual(['q/n 1', 'q/n 2', 'q/n 3', 'q/n 4', 'q/n 5']);
    expect(seen).toEqual([
      ['1', false],
      ['2', true],
      ['3', true],
      ['4', false],
      ['5', false],
    ]);
    expect(router.stats().redelivered).toBe(2);
  });

  test('a delivery handed to a pressured client is not PUBACKed: a persistent session gets it again', () => {
    const router = new Router({ delivery: 'manual' });
    const client = pressuredClient(router, 'L', false);
    const c = client.connect();
    router.subscribe(c, [{ filter: 'x', qos: 1 }]);
    const p = router.connect('P', true, { receive: () => {}, lost: () => {} });
    router.publish(p, 'x', '1', 1);
    router.publish(p, 'x', '2', 1);
    expect(router.drain()).toBe(1); // handed, then held: nothing more while pressured
    expect(router.session('L')).toMatchObject({ inflight: 2 });
    router.close(c);
    client.state.pressured = false;
    client.connect();
    expect(router.deliverable().map((d) => [d.payload.toString(), d.dup])).toEqual([['1', true]]);
    router.drain();
    expect(client.got).toEqual(['x 1', 'x 1', 'x 2']);
    expect(router.session('L')).toMatchObject({ inflight: 0, queued: 0 });
  });

  test('a clean connect discards the stored session (§3.1.2.4)', async () => {
    const router = new Router({ delivery: 'manual' });
    const s = recordingDevice(router, 'S', { cleanSession: false });
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['q']), p.connect()]);
    await s.transport.disconnect();
    p.transport.publish('q', '1');
    expect(router.session('S')).toMatchObject({ queued: 1 });
    const again = recordingDevice(router, 'S');
    await again.connect();
    p.transport.publish('q', '2');
    expect(router.drain()).toBe(0);
    expect(router.session('S')).toMatchObject({ clean: true, subscriptions: [] });
  });
});

describe('takeover (§3.1.4)', () => {
  test('a second connection with the same client id cuts the first; messages go to the new one', async () => {
    const router = new Router();
    const first = recordingDevice(router, 'X');
    const second = recordingDevice(router, 'X');
    const p = recordingDevice(router, 'P');
    await Promise.all([first.connect(['t']), p.connect()]);
    await second.connect(['t']);
    expect(first.transport.connected).toBe(false);
    await settle();
    expect(first.lost).toHaveLength(1);
    expect(second.lost).toEqual([]);
    p.transport.publish('t', '1');
    await settle();
    expect(first.got).toEqual([]);
    expect(second.got).toEqual(['t 1']);
  });

  test('with persistent sessions the new connection inherits the messages on the wire, with DUP', async () => {
    const router = new Router({ delivery: 'manual' });
    const first = recordingDevice(router, 'X', { cleanSession: false });
    const p = recordingDevice(router, 'P');
    await Promise.all([first.connect(['t']), p.connect()]);
    p.transport.publish('t', '1');
    const before = router.deliverable();
    expect(before).toMatchObject([{ subscriberId: 'X', dup: false }]);
    const second = recordingDevice(router, 'X', { cleanSession: false });
    await second.connect();
    const after = router.deliverable();
    expect(after).toMatchObject([{ subscriberId: 'X', dup: true, id: before[0]!.id }]);
    expect(after[0]!.connectionId).not.toBe(before[0]!.connectionId);
    router.drain();
    expect(first.got).toEqual([]);
    expect(second.got).toEqual(['t 1']);
  });
});

describe("Mosquitto's queue limits", () => {
  test('connected but not PUBACKing: 20 in flight, 1000 + 20 queued, the rest of QoS 1 dropped', () => {
    const router = new Router({ delivery: 'manual' });
    const client = pressuredClient(router, 'L', true);
    router.subscribe(client.connect(), [{ filter: 'x', qos: 1 }]);
    const p = router.connect('P', true, { receive: () => {}, lost: () => {} });
    for (let i = 0; i < 1100; i++) router.publish(p, 'x', `${i}`, 1);
    expect(router.drain()).toBe(1);
    expect(router.session('L')).toMatchObject({ inflight: 20, queued: 1020, dropped: 60 });
    expect(router.stats().droppedQueueFull).toBe(60);
    client.state.pressured = false;
    expect(router.drain()).toBe(1039);
    expect(client.got).toEqual(Array.from({ length: 1040 }, (_, i) => `x ${i}`));
  });

  test('a disconnected persistent session queues 1000 QoS 1 messages and no QoS 0 one', async () => {
    const router = new Router({ delivery: 'manual' });
    const s = recordingDevice(router, 'S', { cleanSession: false });
    await s.connect(['x']);
    await s.transport.disconnect();
    const p1 = router.connect('P1', true, { receive: () => {}, lost: () => {} });
    const p0 = router.connect('P0', true, { receive: () => {}, lost: () => {} });
    for (let i = 0; i < 1100; i++) router.publish(p1, 'x', `${i}`, 1);
    router.publish(p0, 'x', 'zero', 0);
    expect(router.session('S')).toMatchObject({ queued: 1000, dropped: 101 });
    expect(router.stats()).toMatchObject({ droppedQueueFull: 100, droppedQos0: 1 });
    await s.connect();
    router.drain();
    expect(s.got).toEqual(Array.from({ length: 1000 }, (_, i) => `x ${i}`));
  });

  test('the limits are options (0 = no maximum)', () => {
    const router = new Router({ delivery: 'manual', maxInflightMessages: 2, maxQueuedMessages: 3 });
    const client = pressuredClient(router, 'L', true);
    router.subscribe(client.connect(), [{ filter: 'x', qos: 1 }]);
    const p = router.connect('P', true, { receive: () => {}, lost: () => {} });
    for (let i = 0; i < 10; i++) router.publish(p, 'x', `${i}`, 1);
    expect(router.session('L')).toMatchObject({ inflight: 2, queued: 5, dropped: 3 });

    const unlimited = new Router({ delivery: 'manual', maxInflightMessages: 0, maxQueuedMessages: 0 });
    const u = pressuredClient(unlimited, 'L', true);
    unlimited.subscribe(u.connect(), [{ filter: 'x', qos: 1 }]);
    const q = unlimited.connect('P', true, { receive: () => {}, lost: () => {} });
    for (let i = 0; i < 3000; i++) unlimited.publish(q, 'x', `${i}`, 1);
    expect(unlimited.session('L')).toMatchObject({ inflight: 3000, queued: 0, dropped: 0 });
  });
});

describe('restart', () => {
  async function setUp(persistence: boolean) {
    const router = new Router({ persistence });
    const stored = recordingDevice(router, 'S', { cleanSession: false });
    const device = recordingDevice(router, 'D');
    const p = recordingDevice(router, 'P');
    await Promise.all([stored.connect(['q']), device.connect(['d']), p.connect()]);
    await stored.transport.disconnect();
    for (const n of [1, 2, 3]) p.transport.publish('q', `${n}`);
    expect(router.session('S')).toMatchObject({ queued: 3 });
    router.restart();
    await settle();
    return { router, stored, device, p };
  }

  test('cuts every client; without persistence every session and queued message is gone', async () => {
    const { router, stored, device, p } = await setUp(false);
    expect(device.lost).toEqual(['broker restart']);
    expect(p.lost).toEqual(['broker restart']);
    expect(router.session('S')).toBeUndefined();
    await stored.connect();
    await p.connect();
    p.transport.publish('q', '4');
    await settle();
    expect(stored.got).toEqual([]);
    expect(router.stats().discarded).toBe(3);
  });

  test('with persistence, persistent sessions keep subscriptions and queued messages; clean ones do not', async () => {
    const { router, stored, device, p } = await setUp(true);
    expect(device.lost).toEqual(['broker restart']);
    expect(router.session('D')).toBeUndefined();
    await stored.connect();
    await p.connect();
    p.transport.publish('q', '4');
    await settle();
    expect(stored.got).toEqual(['q 1', 'q 2', 'q 3', 'q 4']);
  });

  test('while down, connects fail; a link reconnects once it is up and sends what was published meanwhile', async () => {
    const router = new Router();
    const log: string[] = [];
    const got: string[] = [];
    const link = await connectRouterLink(router, {
      clientId: 'pipeline',
      subscriptions: ['up/#'],
      log: (line) => log.push(line),
      onMessage: (topic) => got.push(topic),
      pressured: () => false,
    });
    const d = recordingDevice(router, 'D');
    await d.connect(['ack']);
    router.down();
    await settle();
    await expect(recordingDevice(router, 'E').connect()).rejects.toBeInstanceOf(BrokerDownError);
    let sent = false;
    const publishing = link.publish('ack', 'late').then(() => (sent = true));
    await settle();
    expect(sent).toBe(false);
    router.up();
    await d.connect(['ack']);
    await publishing;
    await settle();
    expect(d.got).toEqual(['ack late']);
    d.transport.publish('up/1', 'x');
    await settle();
    expect(got).toEqual(['up/1']);
    expect(log).toEqual([
      'pipeline: MQTT connection lost, reconnecting',
      'pipeline: MQTT reconnected to the in-memory router, subscriptions renewed',
    ]);
    await link.end();
  });
});

describe('delivery filter', () => {
  test("'drop' loses one delivery for good; 'duplicate' hands it twice, the copy with DUP, before the next", async () => {
    const router = new Router({ delivery: 'manual' });
    const s = recordingDevice(router, 'S');
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['f']), p.connect()]);
    const dups: boolean[] = [];
    router.setFilter((d) => {
      dups.push(d.dup);
      const n = d.payload.toString();
      return n === '1' ? 'drop' : n === '2' ? 'duplicate' : 'deliver';
    });
    for (const n of ['1', '2', '3']) p.transport.publish('f', n);
    const order: string[] = [];
    for (let ds = router.deliverable(); ds.length > 0; ds = router.deliverable()) {
      order.push(`${ds[0]!.payload.toString()}${ds[0]!.dup ? '*' : ''}`);
      router.deliver(ds[0]!);
    }
    expect(order).toEqual(['1', '2', '2*', '3']);
    expect(s.got).toEqual(['f 2', 'f 2', 'f 3']);
    expect(dups).toEqual([false, false, false]); // the filter is not asked about its own copy
    expect(router.stats()).toMatchObject({ filteredOut: 1, duplicated: 1, delivered: 3 });
    expect(router.session('S')).toMatchObject({ inflight: 0 });
  });
});
