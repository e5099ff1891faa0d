// The embedded broker with auth, with real mqtt.js clients over TCP: what the new user tried (a client
// calling itself AABBCCDDEEFF publishing B's metadata and chunks, and ACK_OK on B's /ack) never reaches the
// pipeline's subscription or B, the rogue is disconnected, and each refusal is reported.
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, test } from 'vitest';
import { BrokerAuth } from './broker-auth.ts';
import { startEmbeddedBroker, type BrokerRefusal, type EmbeddedBroker } from './broker.ts';
import { urlWithoutCredentials } from './broker-auth.ts';

const B = 'B8F862F9C1C4';
const rogue = 'AABBCCDDEEFF';
let broker: EmbeddedBroker | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
  await broker?.stop();
  broker = undefined;
});

async function connect(url: string, clientId: string, login?: { username: string; password: string }) {
  const c = await mqtt.connectAsync(url, { clientId, reconnectPeriod: 0, connectTimeout: 5_000, ...login });
  clients.push(c);
  return c;
}

/** Messages `c` receives, by topic. */
function inbox(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  return got;
}

describe('embedded broker with auth', () => {
  test('devices publish only as themselves; the rogue is refused, cut off and reported', async () => {
    const auth = BrokerAuth.random();
    broker = await startEmbeddedBroker({ auth });
    const refusals: BrokerRefusal[] = [];
    broker.onRefused((r) => refusals.push(r));
    const plain = urlWithoutCredentials(broker.url);

    const pipeline = await connect(broker.url, 'camfleet-pipeline-test'); // the service account is in the URL
    await pipeline.subscribeAsync(['ESP32CAM/+/data'], { qos: 1 });
    const seenByPipeline = inbox(pipeline);
    const b = await connect(plain, B, auth.device(B));
    await b.subscribeAsync([`ESP32CAM/${B}/ack`], { qos: 1 });
    const seenByB = inbox(b);

    await b.publishAsync(`ESP32CAM/${B}/data`, '{"own":true}', { qos: 1 });
    const r = await connect(plain, rogue, auth.device(rogue));
    const cut = new Promise<void>((resolve) => r.once('close', () => resolve()));
    r.publish(`ESP32CAM/${B}/data`, '{"image_name":"image_20.jpg"}', { qos: 1 });
    await cut; // aedes closes a client whose publish is refused
    const r2 = await connect(plain, rogue, auth.device(rogue)); // back, after it was cut
    const cut2 = new Promise<void>((resolve) => r2.once('close', () => resolve()));
    r2.publish(`ESP32CAM/${B}/ack`, 'ACK_OK', { qos: 1 });
    await cut2;
    // The service never speaks as a device either.
    const cut3 = new Promise<void>((resolve) => pipeline.once('close', () => resolve()));
    pipeline.publish(`ESP32CAM/${B}/data`, '{"from":"service"}', { qos: 1 });
    await cut3;
    await new Promise((resolve) => setTimeout(resolve, 100)); // anything delivered would be here by now

    expect(seenByPipeline).toEqual([`ESP32CAM/${B}/data {"own":true}`]);
    expect(seenByB).toEqual([]);
    expect(refusals.map((x) => [x.action, x.clientId, x.topic])).toEqual([
      ['publish', rogue, `ESP32CAM/${B}/data`],
      ['publish', rogue, `ESP32CAM/${B}/ack`],
      ['publish', 'camfleet-pipeline-test', `ESP32CAM/${B}/data`],
    ]);
    expect(refusals[0]?.reason).toMatch(/device AABBCCDDEEFF may not publish as B8F862F9C1C4/);
  });

  test('no login, a wrong password: CONNACK refused; a device subscribing to others: SUBACK 128', async () => {
    const auth = BrokerAuth.random();
    broker = await startEmbeddedBroker({ auth });
    const refusals: BrokerRefusal[] = [];
    broker.onRefused((r) => refusals.push(r));
    const plain = urlWithoutCredentials(broker.url);
    await expect(connect(plain, 'anonymous')).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connect(plain, B, { username: B, password: 'guess' })).rejects.toThrow(/Bad username or password/i);
    // Its own login, another device's client id (it would take that device's session over): refused.
    await expect(connect(plain, rogue, auth.device(B))).rejects.toThrow(/Not authorized/i);
    const b = await connect(plain, B, auth.device(B));
    // mqtt.js rejects a SUBACK with a refusal in it; the packet it carries says which.
    const suback = await b
      .subscribeAsync(['ESP32CAM/+/data', `ESP32CAM/${rogue}/ack`, `ESP32CAM/${B}/cmd`], { qos: 1 })
      .then(
        () => undefined,
        (error: unknown) => (error as { packet?: { granted?: number[] } }).packet,
      );
    const granted = (suback?.granted ?? []).map((qos) => ({ qos }));
    expect(granted.map((g) => g.qos)).toEqual([128, 128, 1]);
    expect(b.connected).toBe(true);
    expect(refusals.map((x) => [x.action, x.reason])).toEqual([
      ['connect', 'no credentials'],
      ['connect', `bad credentials for ${B}`],
      ['connect', `device ${B} must connect with its MAC as client id, not ${rogue}`],
      ['subscribe', `device ${B} may not subscribe to a wildcard (ESP32CAM/+/data)`],
      ['subscribe', `device ${B} may not subscribe to AABBCCDDEEFF's ack (ESP32CAM/${rogue}/ack)`],
    ]);
  });
});
