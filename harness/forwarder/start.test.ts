// The forwarder's MQTT side on the embedded broker with its logins (world/broker-auth.ts): with the service login it
// takes both dialects' device topics and posts each message once to a real HTTP handler; a device's messages reach
// it in the order the broker hands them over, none twice without the duplicate fault; stop() ends it cleanly.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, test } from 'vitest';
import { createRng } from '../../simulator/random/prng.ts';
import { History } from '../history/history.ts';
import { faultMixes } from '../nemesis/fault-plan.ts';
import { BrokerAuth, brokerEndpoint } from '../world/broker-auth.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../world/broker.ts';
import { startForwarder, type Forwarder } from './start.ts';

const MAC = 'B8F862F9C1C4';
const open: { broker?: EmbeddedBroker; server?: Server; forwarder?: Forwarder; device?: mqtt.MqttClient } = {};
afterEach(async () => {
  await open.forwarder?.stop(2000);
  await open.device?.endAsync(true);
  open.server?.closeAllConnections();
  await new Promise((resolve) => (open.server ? open.server.close(resolve) : resolve(undefined)));
  await open.broker?.stop();
});

describe('forwarder on the embedded broker', () => {
  test('both dialects’ status and data reach the handler once each, as {topic, payload}', async () => {
    const auth = BrokerAuth.random();
    const broker = await startEmbeddedBroker({ auth });
    open.broker = broker;
    const received: { topic: string; payload: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as { topic: string; payload: string });
        res.writeHead(200).end();
      });
    });
    open.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const history = new History();
    const forwarder = await startForwarder({
      brokerUrl: broker.url, // carries the service login
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      faults: faultMixes.none.webhook,
      rng: createRng(1),
      history,
    });
    open.forwarder = forwarder;
    const { url } = brokerEndpoint(broker.url);
    const device = await mqtt.connectAsync(url, { ...auth.device(MAC), clientId: MAC });
    open.device = device;
    const sent = [
      [`ESP32CAM/${MAC}/status`, '{"device_id":"B8F862F9C1C4","status":"Alive","pendingImg":0}'],
      [`ESP32CAM/${MAC}/data`, '{"device_id":"B8F862F9C1C4","image_name":"image_1.jpg","chunk_id":0,"payload":"/9j/"}'],
      [`device/${MAC}/status`, '{"device_id":"B8F862F9C1C4","status":"alive","pending_count":0}'],
      [`device/${MAC}/data`, '{"device_id":"B8F862F9C1C4","temperature":21.5}'],
    ] as const;
    for (const [topic, payload] of sent) await device.publishAsync(topic, payload, { qos: 1 });
    const until = Date.now() + 5000;
    while (received.length < sent.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(await forwarder.idle(5000)).toBe(true);
    expect(received.map((r) => [r.topic, r.payload]).sort()).toEqual(sent.map(([t, p]) => [t, p]).sort());
    expect(forwarder.stats()).toMatchObject({ messages: 4, delivered: 4, attempts: 4 });
    expect(history.ofType('webhook_delivery')).toHaveLength(4);
  });

  test('without the service login the broker lets it in nowhere: it says so instead of forwarding nothing', async () => {
    const broker = await startEmbeddedBroker({ auth: BrokerAuth.random() });
    open.broker = broker;
    const { url } = brokerEndpoint(broker.url); // the URL without its login
    await expect(
      startForwarder({
        brokerUrl: url,
        url: 'http://127.0.0.1:9/',
        faults: faultMixes.none.webhook,
        rng: createRng(1),
      }),
    ).rejects.toThrow(/forwarder: cannot connect to the MQTT broker/);
  });

  test('at its bound it stops reading; idle() waits for what the broker held meanwhile, not only what is under way', async () => {
    const auth = BrokerAuth.random();
    const broker = await startEmbeddedBroker({ auth });
    open.broker = broker;
    let answered = 0;
    const server = createServer((req, res) => {
      req.resume();
      // Each answer takes a while: with 2 deliveries at once, most messages wait at the broker.
      req.on('end', () => setTimeout(() => res.writeHead(200).end(() => answered++), 30));
    });
    open.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const forwarder = await startForwarder({
      brokerUrl: broker.url,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      faults: faultMixes.none.webhook,
      rng: createRng(1),
      inFlightMax: 2,
    });
    open.forwarder = forwarder;
    const device = await mqtt.connectAsync(brokerEndpoint(broker.url).url, { ...auth.device(MAC), clientId: MAC });
    open.device = device;
    const count = 20;
    for (let i = 0; i < count; i++) await device.publishAsync(`ESP32CAM/${MAC}/data`, `{"n":${i}}`, { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 60)); // the first two are under way, the rest held
    expect(forwarder.behind()).toBe(true);
    expect(await forwarder.idle(20_000)).toBe(true);
    expect(forwarder.stats()).toMatchObject({ messages: count, delivered: count });
    expect(forwarder.behind()).toBe(false);
  });
});
