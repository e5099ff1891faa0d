// The raw broker ceiling (`npm run bench`, part 1): N mqtt.js clients connect and publish the messages a fleet's
// upload would (the same count and size, QoS 1, back to back), while subscribers on a thread of their own count
// what reaches them (as many connections as camfleet's pipeline would use: one, or a shared group on a broker that
// has shared subscriptions). No firmware, no pipeline, no database: what camfleet's end-to-end figure is set
// against (ratioToBroker). Timed from the first connect to the last delivery.
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { spawnTsWorker } from '../harness/world/live/ts-worker.ts';
import type { SubscribersData, SubscribersReport } from './ceiling-subscribers.ts';

export interface BrokerCeilingOptions {
  readonly brokerUrl: string;
  readonly clients: number;
  readonly messagesPerClient: number;
  readonly payloadBytes: number;
  readonly subscribers: number;
  /** Stop waiting for deliveries after this long without one. Default 3000. */
  readonly idleTimeoutMs?: number;
}

export interface BrokerCeiling {
  readonly published: number;
  readonly delivered: number;
  readonly wallS: number;
  readonly deliveredPerS: number;
}

/** Clients connecting at once, at most (a broker's accept backlog). */
const CONNECTS_AT_ONCE = 200;

export async function measureBrokerCeiling(o: BrokerCeilingOptions): Promise<BrokerCeiling> {
  const run = `camfleet-bench-${randomBytes(4).toString('hex')}`;
  const data: SubscribersData = { url: o.brokerUrl, filter: `${run}/+/data`, group: run, count: o.subscribers };
  const worker = spawnTsWorker(new URL('./ceiling-subscribers.ts', import.meta.url), data);
  const reports: ((r: SubscribersReport) => void)[] = [];
  worker.on('message', (r: SubscribersReport) => reports.shift()?.(r));
  const next = () => new Promise<SubscribersReport>((resolve) => reports.push(resolve));
  await next(); // ready
  const count = async () => {
    const reply = next();
    worker.postMessage('count');
    const r = await reply;
    return r.kind === 'count' ? r : { delivered: 0, lastDeliveryMs: 0 };
  };
  const startedMs = performance.timeOrigin + performance.now();
  const publishers: mqtt.MqttClient[] = [];
  for (let from = 0; from < o.clients; from += CONNECTS_AT_ONCE) {
    const n = Math.min(CONNECTS_AT_ONCE, o.clients - from);
    publishers.push(
      ...(await Promise.all(
        Array.from({ length: n }, (_, i) =>
          mqtt.connectAsync(o.brokerUrl, { clientId: `${run}-pub-${from + i}`, clean: true }, false),
        ),
      )),
    );
  }
  const payload = Buffer.alloc(o.payloadBytes, 0x61);
  const published = o.clients * o.messagesPerClient;
  await Promise.all(
    publishers.map(async (client, i) => {
      const topic = `${run}/${i}/data`;
      const sends: Promise<unknown>[] = [];
      for (let m = 0; m < o.messagesPerClient; m++) sends.push(client.publishAsync(topic, payload, { qos: 1 }));
      await Promise.all(sends);
    }),
  );
  const idleTimeoutMs = o.idleTimeoutMs ?? 3000;
  let seen = await count();
  let seenAtMs = performance.now();
  while (seen.delivered < published && performance.now() - seenAtMs < idleTimeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = await count();
    if (now.delivered !== seen.delivered) seenAtMs = performance.now();
    seen = now;
  }
  await Promise.all(publishers.map((c) => c.endAsync(true)));
  worker.postMessage('stop');
  await new Promise((resolve) => worker.once('exit', resolve));
  const wallS = (seen.lastDeliveryMs - startedMs) / 1000;
  return { published, delivered: seen.delivered, wallS, deliveredPerS: seen.delivered / wallS };
}
