// The network nemesis against a real aedes broker in this process and real mqtt.js clients: each fault is injected,
// recorded (one `nemesis` event per injection, naming the topic) and has its effect on what the subscriber sees.
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from '../../simulator/random/prng.ts';
import { History } from '../history/history.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../world/broker.ts';
import { faultMixes, type NetworkFaults } from './fault-plan.ts';
import {
  decideDelivery,
  decideDisconnect,
  installNetworkNemesis,
  installNetworkNemesisOnBroker,
  type NetworkNemesis,
} from './network-nemesis.ts';

const PIPELINE_PREFIX = 'camfleet-pipeline';
const none = faultMixes.none.network;

function faults(over: Partial<NetworkFaults>): NetworkFaults {
  return { ...none, ...over };
}

/** A distinct device topic per message, so a `nemesis` event's detail names exactly one message. */
function topicOf(i: number): string {
  return `ESP32CAM/${i.toString(16).toUpperCase().padStart(12, '0')}/data`;
}

interface Received {
  readonly topic: string;
  readonly seq: number;
  readonly latencyMs: number;
}

interface Subscriber {
  readonly client: MqttClient;
  readonly got: Received[];
}

const open: MqttClient[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(open.splice(0).map((c) => c.endAsync(true).catch(() => {})));
});

async function world(): Promise<EmbeddedBroker> {
  const broker = await startEmbeddedBroker();
  cleanups.push(() => broker.stop());
  return broker;
}

async function connect(url: string, clientId: string, reconnect = false): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: reconnect ? 100 : 0 });
  client.on('error', () => {});
  open.push(client);
  return client;
}

async function subscriber(url: string, clientId: string, filter = 'ESP32CAM/+/data'): Promise<Subscriber> {
  const client = await connect(url, clientId);
  const got: Received[] = [];
  client.on('message', (topic, payload) => {
    const msg = JSON.parse(payload.toString()) as { seq: number; sentAt: number };
    got.push({ topic, seq: msg.seq, latencyMs: performance.now() - msg.sentAt });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

async function publishAll(url: string, count: number): Promise<void> {
  const pub = await connect(url, 'camfleet-test-publisher');
  for (let i = 0; i < count; i++) {
    await pub.publishAsync(topicOf(i), JSON.stringify({ seq: i, sentAt: performance.now() }), { qos: 1 });
  }
}

async function settle(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  // and a little longer, so a late extra (a duplicate, a held message) would be seen too
  await new Promise((r) => setTimeout(r, 300));
}

function nemesisEvents(history: History, fault: string) {
  return history.ofType('nemesis').filter((e) => e.fault === fault);
}

function install(broker: EmbeddedBroker, f: NetworkFaults, seed = 7, history = new History()) {
  const nemesis = installNetworkNemesis(broker.aedes, f, createRng(seed).fork('network'), history, {
    pipelineClientIdPrefix: PIPELINE_PREFIX,
    disconnectAfterPublishesMax: 3,
  });
  cleanups.unshift(() => nemesis.uninstall());
  return { nemesis, history };
}

describe('decisions (pure)', () => {
  it('stacks the rates over one draw', () => {
    const rates = { dropRate: 0.1, duplicateRate: 0.1, reorderRate: 0.1, delayRate: 0.1 };
    expect(decideDelivery(0.05, rates)).toBe('drop');
    expect(decideDelivery(0.15, rates)).toBe('duplicate');
    expect(decideDelivery(0.25, rates)).toBe('reorder');
    expect(decideDelivery(0.35, rates)).toBe('delay');
    expect(decideDelivery(0.45, rates)).toBe('deliver');
    expect(decideDelivery(0, { dropRate: 0, duplicateRate: 0, reorderRate: 0, delayRate: 0 })).toBe('deliver');
    expect(decideDisconnect(0.5, 0.25, 12)).toBeNull();
    expect(decideDisconnect(0.125, 0.25, 12)).toBe(7);
    expect(decideDisconnect(0, 0.25, 12)).toBe(1);
    expect(decideDisconnect(0.2499, 0.25, 12)).toBe(12);
    expect(decideDisconnect(0, 0, 12)).toBeNull();
  });

  it('same seed → same decisions; another seed → others', () => {
    const rates = { dropRate: 0.05, duplicateRate: 0.05, reorderRate: 0.05, delayRate: 0.05 };
    const decisions = (seed: number) => {
      const rng = createRng(seed).fork('network');
      return Array.from({ length: 2_000 }, () => decideDelivery(rng.next(), rates));
    };
    expect(decisions(42)).toEqual(decisions(42));
    expect(decisions(42)).not.toEqual(decisions(43));
    const counts = new Map<string, number>();
    for (const d of decisions(42)) counts.set(d, (counts.get(d) ?? 0) + 1);
    for (const fault of ['drop', 'duplicate', 'reorder', 'delay']) expect(counts.get(fault) ?? 0).toBeGreaterThan(50);
  });
});

describe('network nemesis on an embedded aedes broker', () => {
  const N = 200;

  it('drop: the pipeline misses exactly the messages the history names; others are untouched', async () => {
    const broker = await world();
    const { nemesis, history } = install(broker, faults({ dropRate: 0.2 }));
    const sub = await subscriber(broker.url, `${PIPELINE_PREFIX}-test`);
    const observer = await subscriber(broker.url, 'camfleet-observer');
    await publishAll(broker.url, N);
    await settle(() => observer.got.length >= N);

    const drops = nemesisEvents(history, 'drop');
    expect(nemesis.stats().drop).toBe(drops.length);
    expect(drops.length).toBeGreaterThan(10);
    expect(drops.every((e) => e.target === `${PIPELINE_PREFIX}-test`)).toBe(true);
    expect(sub.got.length).toBe(N - drops.length);
    const received = new Set(sub.got.map((m) => m.topic));
    const missing = Array.from({ length: N }, (_, i) => topicOf(i)).filter((t) => !received.has(t));
    expect(missing.sort()).toEqual(drops.map((e) => e.detail).sort());
    expect(observer.got.length).toBe(N); // not a targeted subscriber
  });

  it('duplicate: the pipeline receives the named messages twice', async () => {
    const broker = await world();
    const { nemesis, history } = install(broker, faults({ duplicateRate: 0.2 }));
    const sub = await subscriber(broker.url, `${PIPELINE_PREFIX}-test`);
    await publishAll(broker.url, N);
    const dups = nemesisEvents(history, 'duplicate');
    await settle(() => sub.got.length >= N + dups.length);

    expect(dups.length).toBeGreaterThan(10);
    expect(nemesis.stats().duplicate).toBe(dups.length);
    expect(sub.got.length).toBe(N + dups.length);
    const seen = new Map<string, number>();
    for (const m of sub.got) seen.set(m.topic, (seen.get(m.topic) ?? 0) + 1);
    const twice = [...seen].filter(([, n]) => n === 2).map(([t]) => t);
    expect(twice.sort()).toEqual(dups.map((e) => e.detail).sort());
  });

  it('reorder: a held message arrives after the next one; nothing is lost', async () => {
    const broker = await world();
    const { nemesis, history } = install(broker, faults({ reorderRate: 0.2 }));
    const sub = await subscriber(broker.url, `${PIPELINE_PREFIX}-test`);
    await publishAll(broker.url, N);
    await settle(() => sub.got.length >= N);

    const reorders = nemesisEvents(history, 'reorder');
    expect(reorders.length).toBeGreaterThan(10);
    expect(nemesis.stats().reorder).toBe(reorders.length);
    const order = sub.got.map((m) => m.seq);
    expect(order.length).toBe(N);
    expect(new Set(order).size).toBe(N);
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    // every reordered message was overtaken by at least one later message
    const position = new Map(sub.got.map((m, i) => [m.topic, i]));
    for (const e of reorders) {
      const seq = Number.parseInt(e.detail?.split('/')[1] ?? '', 16);
      const overtaken = sub.got.some((m, i) => m.seq > seq && i < (position.get(e.detail ?? '') ?? -1));
      expect(overtaken, `${e.detail} overtaken`).toBe(true);
    }
  });

  it('delay: the named messages arrive at least delayMs late, the rest promptly', async () => {
    const broker = await world();
    const delayMs = 300;
    const { nemesis, history } = install(broker, faults({ delayRate: 0.1, delayMs }));
    const sub = await subscriber(broker.url, `${PIPELINE_PREFIX}-test`);
    await publishAll(broker.url, N);
    await settle(() => sub.got.length >= N);

    const delays = nemesisEvents(history, 'delay');
    expect(delays.length).toBeGreaterThan(5);
    expect(nemesis.stats().delay).toBe(delays.length);
    expect(sub.got.length).toBe(N);
    const delayed = new Set(delays.map((e) => e.detail));
    for (const m of sub.got) {
      if (delayed.has(m.topic)) expect(m.latencyMs).toBeGreaterThanOrEqual(delayMs - 1);
    }
    const prompt = sub.got.filter((m) => !delayed.has(m.topic)).map((m) => m.latencyMs);
    expect(prompt.filter((ms) => ms < delayMs).length).toBeGreaterThan(prompt.length / 2);
  });

  it('device-bound deliveries (cmd/ack to a device client) are faulted too', async () => {
    const broker = await world();
    const mac = 'AABBCCDDEEFF';
    const { history } = install(broker, faults({ dropRate: 1 }));
    const device = await subscriber(broker.url, mac, `ESP32CAM/${mac}/cmd`);
    const pub = await connect(broker.url, 'camfleet-test-server');
    for (let i = 0; i < 5; i++)
      await pub.publishAsync(`ESP32CAM/${mac}/cmd`, JSON.stringify({ seq: i, sentAt: 0 }), { qos: 1 });
    await settle(() => false, 200);
    expect(device.got.length).toBe(0);
    expect(nemesisEvents(history, 'drop').map((e) => e.target)).toEqual(Array(5).fill(mac));
  });

  it('disconnect: the broker cuts a device session after one of its first publishes, and records it', async () => {
    const broker = await world();
    const mac = '0123456789AB';
    const { nemesis, history } = install(broker, faults({ disconnectRate: 1 }));
    const observer = await connect(broker.url, `${PIPELINE_PREFIX}-test`); // never cut: not a device
    const device = await connect(broker.url, mac);
    device.on('error', () => {});
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    // At most disconnectAfterPublishesMax (3) publishes get through before the cut, however long they take.
    for (let i = 0; i < 3; i++) device.publish(`ESP32CAM/${mac}/status`, '{}', { qos: 0 });
    for (let i = 0; i < 3; i++) await observer.publishAsync('x/y', '{}', { qos: 1 }); // the observer is never cut
    await closed;
    const cuts = nemesisEvents(history, 'disconnect');
    expect(cuts.map((e) => e.target)).toEqual([mac]);
    expect(nemesis.stats().disconnect).toBe(1);
    expect(observer.connected).toBe(true);
  });

  it('same seed → same injections over the same deliveries', async () => {
    const run = async (seed: number) => {
      const broker = await world();
      const { nemesis, history } = install(broker, faults({ dropRate: 0.1, duplicateRate: 0.1 }), seed);
      const sub = await subscriber(broker.url, `${PIPELINE_PREFIX}-test`);
      await publishAll(broker.url, 100);
      const expected = () => 100 - nemesis.stats().drop + nemesis.stats().duplicate;
      await settle(() => sub.got.length >= expected());
      expect(sub.got.length).toBe(expected());
      return history.ofType('nemesis').map((e) => `${e.fault} ${e.detail ?? ''}`);
    };
    const a = await run(11);
    expect(a.length).toBeGreaterThan(5);
    expect(await run(11)).toEqual(a);
    expect(await run(12)).not.toEqual(a);
  });

  it('uninstall stops injecting and restores the hook', async () => {
    const broker = await world();
    const original = broker.aedes.authorizeForward;
    const { nemesis, history } = install(broker, faults({ dropRate: 1 }));
    expect(broker.aedes.authorizeForward).not.toBe(original);
    nemesis.uninstall();
    expect(broker.aedes.authorizeForward).toBe(original);
    const sub = await subscriber(broker.url, `${PIPELINE_PREFIX}-test`);
    await publishAll(broker.url, 20);
    await settle(() => sub.got.length >= 20);
    expect(sub.got.length).toBe(20);
    expect(history.ofType('nemesis')).toEqual([]);
  });

  it('follows the broker onto its new aedes instance after a restart', async () => {
    const broker = await world();
    const history = new History();
    const nemesis: NetworkNemesis = installNetworkNemesisOnBroker(
      broker,
      faults({ dropRate: 1 }),
      createRng(3),
      history,
      { pipelineClientIdPrefix: PIPELINE_PREFIX },
    );
    cleanups.unshift(() => nemesis.uninstall());
    await broker.restart(50);
    const sub = await subscriber(broker.url, `${PIPELINE_PREFIX}-test`);
    await publishAll(broker.url, 10);
    await settle(() => false, 200);
    expect(sub.got.length).toBe(0);
    expect(nemesis.stats().drop).toBe(10);
    nemesis.uninstall();
    await publishAll(broker.url, 10);
    await settle(() => sub.got.length >= 10);
    expect(sub.got.length).toBe(10);
  });
});
