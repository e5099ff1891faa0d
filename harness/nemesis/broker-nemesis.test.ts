// Broker restarts by trigger: recorded as `broker_restart`, and the broker really went down and came back.
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { History } from '../history/history.ts';
import { startEmbeddedBroker } from '../world/broker.ts';
import { planBrokerRestarts } from './broker-nemesis.ts';
import { FaultScheduler } from './fault-scheduler.ts';

describe('broker restart schedule', () => {
  it('restarts the embedded broker when each trigger is due and records each restart', async () => {
    const broker = await startEmbeddedBroker();
    const history = new History();
    try {
      const client = await mqtt.connectAsync(broker.url, { clientId: 'camfleet-pipeline-x', reconnectPeriod: 50 });
      client.on('error', () => {});
      let closes = 0;
      client.on('close', () => closes++);
      const progress = { chunksStored: 0, chunksExpected: 10, transfersInFlight: 0, rowsReceiving: 0 };
      const scheduler = new FaultScheduler(history, () => progress, 1_000_000);
      const nemesis = planBrokerRestarts(broker, ['10%', '50%'], history, scheduler, { downMs: 100 });
      const first = broker.aedes;
      scheduler.start();
      progress.chunksStored = 1;
      scheduler.checkNow();
      await scheduler.settled();
      await nemesis.stop(); // the broker is back
      await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
      progress.chunksStored = 5;
      await scheduler.stop();
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

  it('faults stop before the trigger is due: no restart, recorded as missed', async () => {
    const broker = await startEmbeddedBroker();
    const history = new History();
    const scheduler = new FaultScheduler(history, () => ({
      chunksStored: 0,
      chunksExpected: 10,
      transfersInFlight: 0,
      rowsReceiving: 0,
    }));
    const nemesis = planBrokerRestarts(broker, ['50%'], history, scheduler);
    scheduler.start();
    await scheduler.stop();
    await nemesis.stop();
    expect(history.ofType('nemesis')).toEqual([]);
    expect(history.ofType('fault_missed')).toHaveLength(1);
    await broker.stop();
  });
});
