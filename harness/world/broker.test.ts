// The embedded broker's restart (a nemesis fault, ARCHITECTURE.md §4): clients are cut, the same port answers again
// with a fresh aedes instance, and clients that reconnect work.
import mqtt, { type MqttClient } from 'mqtt';
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isEmbeddedBroker, startEmbeddedBroker, type EmbeddedBroker } from './broker.ts';

const clients: MqttClient[] = [];
let broker: EmbeddedBroker | undefined;

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  await broker?.stop();
  broker = undefined;
});

async function connect(url: string, clientId: string, reconnectPeriod: number): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod, connectTimeout: 2_000 });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('embedded broker restart', () => {
  it('cuts every client, is down for downMs, then listens on the same port with a fresh aedes', async () => {
    broker = await startEmbeddedBroker();
    expect(isEmbeddedBroker(broker)).toBe(true);
    const url = broker.url;
    const firstAedes = broker.aedes;
    const seen: unknown[] = [];
    broker.onAedes((a) => seen.push(a));

    const device = await connect(url, 'AABBCCDDEEFF', 0);
    const pipeline = await connect(url, 'camfleet-pipeline-restart', 100);
    await pipeline.subscribeAsync('ESP32CAM/+/data', { qos: 1 });
    const deviceClosed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    const pipelineClosed = new Promise<void>((resolve) => pipeline.once('close', () => resolve()));

    const restarting = broker.restart(300);
    await Promise.all([deviceClosed, pipelineClosed]);
    await new Promise((r) => setTimeout(r, 100));
    expect(await portAnswers(broker.port)).toBe(false); // down
    await restarting;

    expect(broker.url).toBe(url);
    expect(await portAnswers(broker.port)).toBe(true);
    expect(broker.aedes).not.toBe(firstAedes);
    expect(seen).toEqual([broker.aedes]);

    // The pipeline-like client reconnects and resubscribes by itself; a new device session works.
    await new Promise<void>((resolve) => (pipeline.connected ? resolve() : pipeline.once('connect', () => resolve())));
    const got: string[] = [];
    pipeline.on('message', (topic) => got.push(topic));
    await new Promise((r) => setTimeout(r, 100)); // resubscribe on reconnect
    const again = await connect(url, 'AABBCCDDEEFF', 0);
    await again.publishAsync('ESP32CAM/AABBCCDDEEFF/data', 'x', { qos: 1 });
    const until = Date.now() + 2_000;
    while (got.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['ESP32CAM/AABBCCDDEEFF/data']);
  });

  it('stop during the down time leaves the port closed', async () => {
    broker = await startEmbeddedBroker();
    const port = broker.port;
    const restarting = broker.restart(200);
    await new Promise((r) => setTimeout(r, 50));
    await broker.stop();
    await restarting;
    expect(await portAnswers(port)).toBe(false);
  });
});
