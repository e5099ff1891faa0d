// The pipeline in an MQTT shared subscription on the machine's Mosquitto (issue 10): several connections of one
// instance, and two instances (as two shards' pipelines would be), in one group. Each message reaches one member
// only; a device's metadata and its chunks land on different members, and every image is still stored once and
// acknowledged. Skipped, with the reason in its name, when the broker is unreachable.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { externalBrokerTarget } from '../../test/databases.ts';
import type { Pipeline } from './index.ts';
import { imagesOf, makeImage, nextMac, openTestWorld, TestDevice, type TestWorld } from './test-support.ts';

const broker = externalBrokerTarget();

describe.skipIf(broker.url === null)(`the pipeline in a shared subscription (${broker.label})`, () => {
  let world: TestWorld;
  beforeAll(async () => {
    world = await openTestWorld('pipeline_shared');
  });
  afterEach(async () => {
    await world?.stopPipelines();
  });
  afterAll(async () => {
    await world?.close();
  });

  /** `devices` devices each send one 12-chunk image; resolves once every one has its ACK_OK. */
  async function uploadAll(devices: number): Promise<{ macs: string[]; published: number }> {
    const url = broker.url ?? '';
    const ds = await Promise.all(Array.from({ length: devices }, () => TestDevice.connect(url, nextMac())));
    try {
      const imgs = ds.map((_, i) => makeImage(300 + i, 12_000, 'image_1.jpg'));
      await Promise.all(ds.map((d, i) => d.sendImage(imgs[i]!)));
      await Promise.all(ds.map((d, i) => d.waitForAck(imgs[i]!.name, 20_000)));
      return { macs: ds.map((d) => d.mac), published: imgs.reduce((n, img) => n + 1 + img.chunks.length, 0) };
    } finally {
      await Promise.all(ds.map((d) => d.end()));
    }
  }

  async function expectStoredOnce(macs: readonly string[]): Promise<void> {
    for (const mac of macs) {
      const rows = await imagesOf(world.db, mac);
      expect(rows.map((r) => [r.image_name, r.status])).toEqual([['image_1.jpg', 'complete']]);
    }
  }

  const totals = (ps: readonly Pipeline[]) => ({
    messages: ps.reduce((n, p) => n + p.stats().messages, 0),
    rejected: ps.reduce((n, p) => n + p.stats().rejected, 0),
  });

  it('three connections of one instance: each message arrives once, every image stored once and acknowledged', async () => {
    const group = `camfleet-test-${randomBytes(4).toString('hex')}`;
    const p = await world.pipeline({
      brokerUrl: broker.url ?? '',
      sharedGroup: group,
      consumers: 3,
      routeWaitMs: 30_000,
    });
    const { macs, published } = await uploadAll(6);
    await p.idle();
    // Three plain subscriptions would have taken every message three times.
    expect(totals([p])).toEqual({ messages: published, rejected: 0 });
    await expectStoredOnce(macs);
  });

  it('two instances in one group split the messages between them, and every image is stored once', async () => {
    const group = `camfleet-test-${randomBytes(4).toString('hex')}`;
    const options = { brokerUrl: broker.url ?? '', sharedGroup: group, consumers: 2, routeWaitMs: 30_000 };
    const a = await world.pipeline(options);
    const b = await world.pipeline(options);
    const { macs, published } = await uploadAll(6);
    await Promise.all([a.idle(), b.idle()]);
    expect(totals([a, b])).toEqual({ messages: published, rejected: 0 });
    // The broker hands the members messages in turn: both stored chunks, together each of the 72 once. (That a chunk
    // reaching the instance without its metadata waits for the other's commit is route-wait.test.ts'.)
    expect(a.stats().chunksStored).toBeGreaterThan(0);
    expect(b.stats().chunksStored).toBeGreaterThan(0);
    expect(a.stats().chunksStored + b.stats().chunksStored).toBe(72);
    await expectStoredOnce(macs);
  });
});
