// A slow QoS 1 subscriber on the machine's Mosquitto (PROTOCOL.md §7 item 8): in a burst, the broker's queue for it
// overflows and it receives fewer messages than were published. Skipped, with the reason in its name, when the
// broker is unreachable.
import mqtt from 'mqtt';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { externalBrokerTarget } from '../../test/databases.ts';
import { History } from '../history/history.ts';
import { startSlowSubscriber } from './slow-subscriber.ts';

const broker = externalBrokerTarget();

describe.skipIf(broker.url === null)(`slow subscriber (${broker.label})`, () => {
  it('receives fewer messages than a burst published, and is recorded', async () => {
    const url = broker.url ?? '';
    const history = new History();
    const mac = randomBytes(6).toString('hex').toUpperCase();
    const topic = `ESP32CAM/${mac}/data`;
    // Its own device's topic only: other runs on the shared broker must not change the count.
    const slow = await startSlowSubscriber(url, history, { topic, processMs: 20 });
    const mine = { received: 0 };
    // Count only this test's messages (other runs may publish on the shared broker too).
    const observer = await mqtt.connectAsync(url, { clientId: `camfleet-test-observer-${mac}`, reconnectPeriod: 0 });
    const publisher = await mqtt.connectAsync(url, { clientId: `camfleet-test-burst-${mac}`, reconnectPeriod: 0 });
    try {
      await observer.subscribeAsync(topic, { qos: 1 });
      observer.on('message', () => mine.received++);
      const published = 5_000;
      const payload = Buffer.alloc(1_000, 7);
      await Promise.all(Array.from({ length: published }, () => publisher.publishAsync(topic, payload, { qos: 1 })));
      // Let it catch up with whatever the broker still holds for it, then count.
      slow.speedUp();
      let last = -1;
      while (slow.stats().received !== last) {
        last = slow.stats().received;
        await new Promise((r) => setTimeout(r, 500));
      }
      const { received } = slow.stats();
      console.log(
        `slow subscriber on ${url}: ${received} of ${published} received (a fast subscriber got ${mine.received})`,
      );
      expect(history.ofType('nemesis').map((e) => e.fault)).toEqual(['slow_subscriber']);
      // All 5,000 were accepted by the broker (every PUBACK came back); a plain subscriber usually gets them all,
      // but on a loaded machine it may fall behind too (that is §7.8 again), so its count is only reported.
      expect(received).toBeLessThan(published);
      expect(received).toBeGreaterThan(0);
    } finally {
      await slow.stop();
      await observer.endAsync(true).catch(() => {});
      await publisher.endAsync(true).catch(() => {});
    }
  });
});
