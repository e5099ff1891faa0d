// Broker restarts on a schedule: recorded as `broker_restart`, and the broker really went down and came back.
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { History } from '../history/history.ts';
import { startEmbeddedBroker } from '../world/broker.ts';
import { scheduleBrokerRestarts } from './broker-nemesis.ts';

describe('broker restart schedule', () => {
  it('restarts the embedded broker at the planned times and records each restart', async () => {
    const broker = await startEmbeddedBroker();
    const history = new History();
    try {
      const client = await mqtt.connectAsync(broker.url, { clientId: 'camfleet-pipeline-x', reconnectPeriod: 50 });
      client.on('error', () => {});
      let closes = 0;
      client.on('close', () => closes++);
      const nemesis = scheduleBrokerRestarts(broker, [50, 400], history, { downMs: 100 });
      const first = broker.aedes;
      await new Promise((r) => setTimeout(r, 900));
      await nemesis.stop();
      const restarts = history.ofType('nemesis').filter((e) => e.fault === 'broker_restart');
      expect(restarts).toHaveLength(2);
      expect(restarts[0]?.target).toBe(broker.url);
      expect(nemesis.stats()).toEqual({ restarts: 2, errors: [] });
      expect(broker.aedes).not.toBe(first);
      expect(closes).toBeGreaterThanOrEqual(2);
      await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
      await client.endAsync(true);
    } finally {
      await broker.stop();
    }
  });

  it('stop before the time: no restart', async () => {
    const broker = await startEmbeddedBroker();
    const history = new History();
    const nemesis = scheduleBrokerRestarts(broker, [100], history);
    await nemesis.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(history.ofType('nemesis')).toEqual([]);
    await broker.stop();
  });
});
