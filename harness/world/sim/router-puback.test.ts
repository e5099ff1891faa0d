// The router's PUBACK filter (the drop-puback fault point's sim seam, nemesis/puback-points.ts): the PUBACK of
// exactly the chosen publish is dropped, the message still reaches its subscribers, and the publisher — a clean
// mqtt.js client that is never reconnected — never disconnects: its end() waits for that PUBACK, so its session
// stays (subscribed, still delivered to) until its client id's next connection takes it over.
import { describe, expect, test } from 'vitest';
import { Router, type ReceivedPublish } from './router.ts';
import { recordingDevice, settle } from './test-support.ts';

describe("the router's PUBACK filter", () => {
  test('drops the PUBACK of exactly that publish; the message is still delivered', async () => {
    const router = new Router({ delivery: 'manual' });
    const s = recordingDevice(router, 'S');
    const p = recordingDevice(router, 'P');
    await Promise.all([s.connect(['f']), p.connect()]);
    const asked: string[] = [];
    router.setPubackFilter((publish: ReceivedPublish) => {
      asked.push(`${publish.publisherId} ${publish.payload.toString()} qos${publish.qos}`);
      return publish.payload.toString() === '2';
    });
    for (const n of ['1', '2', '3']) p.transport.publish('f', n);
    router.drain();
    expect(s.got).toEqual(['f 1', 'f 2', 'f 3']);
    expect(asked).toEqual(['P 1 qos1', 'P 2 qos1', 'P 3 qos1']);
    expect(router.stats()).toMatchObject({ pubacksDropped: 1, delivered: 3 });
  });

  test('QoS 0 publishes have no PUBACK to drop: the filter is not asked', async () => {
    const router = new Router({ delivery: 'manual' });
    const p = recordingDevice(router, 'P', { qos: 0 });
    await p.connect();
    let asked = 0;
    router.setPubackFilter(() => (asked++, true));
    p.transport.publish('f', 'x');
    expect(asked).toBe(0);
    expect(router.stats().pubacksDropped).toBe(0);
  });

  test('the publisher never disconnects: its session stays until its next connection takes it over', async () => {
    const router = new Router({ delivery: 'manual' });
    const p = recordingDevice(router, 'P');
    const server = recordingDevice(router, 'server');
    await Promise.all([p.connect(['P/ack']), server.connect(['f'])]);
    router.setPubackFilter((publish) => publish.payload.toString() === 'chunk');
    p.transport.publish('f', 'chunk');
    await p.transport.disconnect();
    // No DISCONNECT came: the broker still has the session, subscribed, and delivers to it.
    expect(router.session('P')).toMatchObject({ connected: true, subscriptions: [['P/ack', 1]] });
    server.transport.publish('P/ack', 'late');
    expect(router.deliverable().map((d) => `${d.subscriberId} ${d.payload.toString()}`)).toEqual([
      'server chunk',
      'P late',
    ]);
    router.drain();
    // The device transport no longer listens to a session it ended (the live one does: see the report's note).
    expect(p.got).toEqual([]);
    // The device's next session takes the old one over (§3.1.4); the old one's loss is not the new one's.
    await p.connect(['P/ack']);
    await settle();
    expect(p.lost).toEqual([]);
    expect(router.session('P')).toMatchObject({ connected: true });
    // A session without a dropped PUBACK closes as before.
    await p.transport.disconnect();
    expect(router.session('P')).toBeUndefined();
  });

  test('a session cut by the broker (restart) is gone even while it waits for a PUBACK', async () => {
    const router = new Router({ delivery: 'manual' });
    const p = recordingDevice(router, 'P');
    await p.connect();
    router.setPubackFilter(() => true);
    p.transport.publish('f', 'x');
    await p.transport.disconnect();
    expect(router.session('P')?.connected).toBe(true);
    router.restart();
    expect(router.session('P')).toBeUndefined();
  });
});
