// End to end: simulated devices → broker → reference pipeline → Postgres, then the checker. On the embedded
// world (aedes + embedded Postgres) always, and on the machine's Mosquitto + PostgreSQL server when reachable.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { externalBrokerTarget, externalTarget, primaryTarget } from '../../test/databases.ts';
import { runLive } from './live-run.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';

const small: LiveRunOptions = {
  ...liveRunDefaults,
  devices: 20,
  imagesPerDevice: 2,
  imageKbMean: 30,
  seed: 20260114,
  brokerUrl: undefined,
  databaseUrl: undefined,
  timeBudgetMs: 60_000,
  keepDatabase: false,
};

async function storedShas(url: string): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ mac: string; name: string; bytes: Buffer }>(
      `SELECT d.device_mac AS mac, di.image_name AS name, b.bytes
       FROM device_images di JOIN devices d USING (device_id) JOIN image_blobs b USING (image_id)`,
    );
    return new Map(rows.map((r) => [`${r.mac}|${r.name}`, createHash('sha256').update(r.bytes).digest('hex')]));
  } finally {
    await client.end();
  }
}

function expectAllPass(result: Awaited<ReturnType<typeof runLive>>) {
  const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
  expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
  expect(result.verdict).toBe('pass');
  expect(result.fleet.captured).toBe(small.devices * small.imagesPerDevice);
  expect(result.fleet.acked).toBe(result.fleet.captured);
  expect(result.pipeline.imagesCompleted).toBe(result.fleet.captured);
  expect(result.pipeline.rejected).toBe(0);
}

describe('live run end to end', () => {
  test(`20 devices × 2 images on aedes + ${primaryTarget().label}: every invariant passes`, async () => {
    const result = await runLive({
      ...small,
      databaseUrl: primaryTarget().server?.kind === 'external' ? primaryTarget().server?.url : undefined,
    });
    expectAllPass(result);
    // The history holds what each device captured; every capture was acknowledged exactly once.
    const captures = result.history.events.filter((e) => e.type === 'device_captured');
    const dequeued = result.history.events.filter((e) => e.type === 'device_dequeued');
    expect(new Set(dequeued.map((e) => (e.type === 'device_dequeued' ? e.sha256 : ''))).size).toBe(captures.length);
    // The broker's sessions are in the same history: every device connected, the pipeline too.
    const sessions = result.history.events.filter((e) => e.type === 'broker_client' && e.connected);
    const clients = new Set(sessions.map((e) => (e.type === 'broker_client' ? e.clientId : '')));
    for (const e of captures) if (e.type === 'device_captured') expect(clients).toContain(e.capture.mac);
    expect([...clients].some((id) => id.startsWith('camfleet-pipeline'))).toBe(true);
  });

  const broker = externalBrokerTarget();
  const database = externalTarget();
  const external = broker.url && database.server ? test : test.skip;
  external(`the same on ${broker.label} + ${database.label}: bytes identical`, async () => {
    // Kept so this test can read the bytes back; dropped below.
    const result = await runLive({
      ...small,
      brokerUrl: broker.url ?? undefined,
      databaseUrl: database.server?.url,
      keepDatabase: true,
    });
    try {
      expectAllPass(result);
      expect(result.brokerKind).toBe('external');
      expect(result.databaseKind).toBe('external');
      const url = result.keptDatabaseUrl!;
      const stored = await storedShas(url);
      for (const e of result.history.events) {
        if (e.type === 'device_captured')
          expect(stored.get(`${e.capture.mac}|${e.capture.imageName}`)).toBe(e.capture.sha256);
      }
    } finally {
      if (result.keptDatabaseUrl) {
        const admin = new pg.Client({ connectionString: database.server!.url });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${result.databaseName} WITH (FORCE)`);
        await admin.end();
      }
    }
  });
});
