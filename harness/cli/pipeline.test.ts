// `npm run pipeline` as a long-running service: migrates on request, serves any client that follows PROTOCOL.md,
// and drains and exits cleanly on SIGTERM.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { primaryTarget, scratchDatabase } from '../../test/databases.ts';
import { startCli } from '../../test/run-cli.ts';
import { makeImage, TestDevice } from '../pipeline/test-support.ts';
import { startEmbeddedBroker, type Broker } from '../world/broker.ts';

describe('npm run pipeline', () => {
  let broker: Broker;
  let url: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    const db = await scratchDatabase(primaryTarget().server!, 'pipeline_cli');
    url = db.url;
    drop = () => db.drop();
  });
  afterAll(async () => {
    await broker?.stop();
    await drop?.();
  });

  test('refuses an unmigrated database with a hint; with --migrate it serves a device and drains on SIGTERM', async () => {
    const refused = await startCli('pipeline.ts', ['--broker-url', broker.url, '--database-url', url]).done;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('not at the pipeline stage');
    expect(refused.stderr).toContain('--migrate');

    const service = startCli('pipeline.ts', ['--broker-url', broker.url, '--database-url', url, '--migrate']);
    await service.waitForOutput(/pipeline running/);
    const device = await TestDevice.connect(broker.url, 'B8F862AABBCC');
    try {
      await device.hello();
      await device.waitFor((m) => m.kind === 'capture_image');
      const image = makeImage(9, 5000, 'image_1.jpg');
      await device.sendImage(image);
      const ack = await device.waitForAck('image_1.jpg', 10_000);
      expect(ack.topic).toBe('ESP32CAM/B8F862AABBCC/ack');
      service.child.kill('SIGTERM');
      const run = await service.done;
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('SIGTERM: draining');
      expect(run.stdout).toContain('stopped cleanly');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const rows = (await client.query(`SELECT status, received_chunks, total_chunks FROM device_images`)).rows;
      await client.end();
      expect(rows).toEqual([{ status: 'complete', received_chunks: 5, total_chunks: 5 }]);
    } finally {
      await device.end();
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
    }
  });

  test('missing --broker-url is a usage error', async () => {
    const r = await startCli('pipeline.ts', ['--database-url', url]).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--broker-url (or MQTT_URL) is required');
  });
});
