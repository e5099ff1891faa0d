// The drop-puback point's aedes side over a real embedded broker and real mqtt.js clients: the PUBACK of exactly
// the chosen publish is swallowed (the sink took that PUBACK: no misfire), the message still reaches the
// subscriber, and the publisher keeps it in flight — its end() never completes, as a device's session then does.
import mqtt from 'mqtt';
import { createMqttTransport } from '../../simulator/transport/mqtt-transport.ts';
import { afterEach, describe, expect, test } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../world/broker.ts';
import { installAedesPubackDrop } from './aedes-puback.ts';
import type { PubackPoints } from './puback-points.ts';

let broker: EmbeddedBroker | undefined;
afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

describe("aedes' PUBACK of one publish dropped", () => {
  test('exactly that PUBACK is gone, the message still delivered, the publisher keeps it in flight', async () => {
    broker = await startEmbeddedBroker();
    const asked: string[] = [];
    const outcomes: string[] = [];
    const points: PubackPoints = {
      take: (publisherId, topic, payload) => {
        const text = Buffer.from(payload).toString();
        asked.push(`${publisherId} ${topic} ${text}`);
        if (text !== '2') return undefined;
        return { dropped: () => outcomes.push('dropped'), notDropped: (why) => outcomes.push(why) };
      },
      stop: () => {},
    };
    const drop = installAedesPubackDrop(broker, points);
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'sub', reconnectPeriod: 0 });
    const got: string[] = [];
    sub.on('message', (_topic, payload) => got.push(payload.toString()));
    await sub.subscribeAsync('f', { qos: 1 });
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'pub', reconnectPeriod: 0 });
    const acked: string[] = [];
    const publish = (n: string) => pub.publish('f', n, { qos: 1 }, (error) => error ?? acked.push(n));
    publish('1');
    publish('2');
    await pub.publishAsync('f', '3', { qos: 1 });
    // aedes acknowledges in order: with 3's PUBACK in, 2's would have come before it.
    expect(acked).toEqual(['1']);
    expect(Object.keys(pub.outgoing)).toHaveLength(1);
    expect(drop.misfires()).toBe(0);
    expect(outcomes).toEqual(['dropped']);
    expect(asked).toEqual(['pub f 1', 'pub f 2', 'pub f 3']);
    await expect.poll(() => got).toEqual(['1', '2', '3']);
    // A graceful end waits for the PUBACK (mqtt.js `outgoingEmpty`): it never sends DISCONNECT.
    let ended = false;
    void pub.endAsync().then(() => (ended = true));
    await sub.publishAsync('probe', 'x', { qos: 1 }); // a round trip through the broker meanwhile
    expect(ended).toBe(false);
    expect(pub.connected).toBe(true);
    drop.uninstall();
    pub.end(true);
    await sub.endAsync();
  });

  test("a device transport's session without its PUBACK: not disconnected, taken over by the next one, deaf meanwhile", async () => {
    const b = (broker = await startEmbeddedBroker());
    const strike = { dropped: () => {}, notDropped: () => {} };
    installAedesPubackDrop(b, { take: (_id, topic) => (topic === 'dev/data' ? strike : undefined), stop: () => {} });
    const got: string[] = [];
    const lost: string[] = [];
    const device = createMqttTransport(
      { brokerUrl: b.url, clientId: 'dev', qos: 1, connectTimeoutMs: 5_000 },
      { onMessage: (topic, payload) => got.push(`${topic} ${payload.toString()}`), onLost: (r) => lost.push(r) },
    );
    // aedes' own table of connected clients (not in its types).
    const clients = () => Object.keys((b.aedes as unknown as { clients: object }).clients).sort();
    await device.connect(['dev/ack']);
    device.publish('dev/data', 'chunk');
    let ended = false;
    void device.disconnect().then(() => (ended = true));
    const server = await mqtt.connectAsync(b.url, { clientId: 'server', reconnectPeriod: 0 });
    // No DISCONNECT came: aedes still has the device's session, and delivers to it.
    expect(clients()).toEqual(['dev', 'server']);
    await server.publishAsync('dev/ack', 'late', { qos: 1 });
    await server.publishAsync('probe', 'x', { qos: 1 });
    expect(ended).toBe(false);
    // The device ended that session: what still reaches it is not the device's (as the sim transport drops it).
    expect(got).toEqual([]);
    // Its next session takes the old one over; the old one's loss is not the new one's.
    await device.connect(['dev/ack']);
    await server.publishAsync('dev/ack', 'now', { qos: 1 });
    await expect.poll(() => got).toEqual(['dev/ack now']);
    expect(lost).toEqual([]);
    expect(clients()).toEqual(['dev', 'server']);
    await device.disconnect();
    await server.endAsync();
  });
});
