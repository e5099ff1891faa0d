// Every device fault of ARCHITECTURE.md §4, end to end through the real fleet, an in-process aedes broker and a
// scripted server (no Postgres): injected, recorded as a `nemesis` history event, and with its effect on the wire
// and on the device — then healed.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeDeviceMessage, type Chunk, type Hello, type Metadata } from '../../simulator/protocol/index.ts';
import type { HistoryEvent } from '../history/events.ts';
import type { History } from '../history/history.ts';
import type { FleetOptions } from '../fleet/fleet.ts';
import type { DeviceFaults } from './fault-plan.ts';
import {
  startScriptedServer,
  startTestBroker,
  testFleet,
  type ScriptedServer,
  type TestBroker,
} from './test-support.ts';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.stop();
});

interface Outcome {
  readonly history: History;
  readonly server: ScriptedServer;
  readonly mac: string;
  readonly wakes: number;
  readonly outageWakes: number;
}

async function runOne(
  faults: Partial<DeviceFaults>,
  options: Partial<FleetOptions> = {},
  serverSetup: (server: ScriptedServer) => void = () => {},
): Promise<Outcome> {
  const capturesPerDevice = options.imagesPerDevice ?? 1;
  const server = await startScriptedServer(broker.url, capturesPerDevice);
  serverSetup(server);
  const { fleet, history } = testFleet(broker.url, faults, options);
  try {
    const result = await fleet.run();
    expect(result.aborted).toBe(false);
    const driver = fleet.drivers[0];
    if (!driver) throw new Error('no driver');
    return { history, server, mac: driver.mac, wakes: driver.wakes, outageWakes: driver.outageWakes };
  } finally {
    await fleet.shutdown();
    await server.stop();
  }
}

function nemesisEvents(history: History, fault: string) {
  return history.ofType('nemesis').filter((e) => e.fault === fault);
}

function finalQueue(history: History, mac: string): readonly string[] | undefined {
  const finals = history.ofType('device_final').filter((e) => e.mac === mac);
  return finals[finals.length - 1]?.queued;
}

function captures(history: History) {
  return history.ofType('device_captured').map((e) => e.capture);
}

/** Every capture of the device is stored by the server with the device's bytes, and its queue ended empty. */
function expectAllDelivered(o: Outcome) {
  expect(finalQueue(o.history, o.mac)).toEqual([]);
  const storedShas = new Set(o.server.stored.map((s) => s.sha256));
  for (const c of captures(o.history)) expect(storedShas.has(c.sha256), c.imageName).toBe(true);
}

/** The device's /data messages for one image as `M` (metadata) and chunk ids, in arrival order. */
function wireOrder(server: ScriptedServer, mac: string, imageName: string): (string | number)[] {
  return server
    .from(mac)
    .map((r) => r.message)
    .filter((m): m is Metadata | Chunk => (m.kind === 'metadata' || m.kind === 'chunk') && m.image_name === imageName)
    .map((m) => (m.kind === 'metadata' ? 'M' : m.chunk_id));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function metadataOf(server: ScriptedServer, mac: string): Metadata[] {
  return server
    .from(mac)
    .map((r) => r.message)
    .filter((m): m is Metadata => m.kind === 'metadata');
}

describe('device faults in a live fleet (aedes + scripted server)', () => {
  test('zero rates: no nemesis event, one plain transfer per image', async () => {
    const o = await runOne({}, { imagesPerDevice: 2 });
    expect(o.history.ofType('nemesis')).toEqual([]);
    expectAllDelivered(o);
    expect(captures(o.history)).toHaveLength(2);
    for (const c of captures(o.history)) {
      const order = wireOrder(o.server, o.mac, c.imageName);
      expect(order[0]).toBe('M');
      expect(order.slice(1)).toEqual(range(0, order.length - 1));
    }
  });

  test('reboot mid-transfer: RAM lost, SD kept; the image is listed in HELLO, re-sent in full and acknowledged', async () => {
    const o = await runOne({ rebootRate: 1 });
    const [reboot] = nemesisEvents(o.history, 'reboot');
    expect(reboot?.target).toBe(o.mac);
    const m = /after (\d+) of (\d+) chunks/.exec(reboot?.detail ?? '');
    expect(m).not.toBeNull();
    const [afterChunks, total] = [Number(m?.[1]), Number(m?.[2])];
    expect(afterChunks).toBeGreaterThanOrEqual(1);
    expect(afterChunks).toBeLessThanOrEqual(total);
    const [capture] = captures(o.history);
    // Partial (at most the chunks before the power cut), then the full transfer after the reboot.
    const order = wireOrder(o.server, o.mac, capture?.imageName ?? '');
    const second = order.indexOf('M', 1);
    expect(second).toBeGreaterThan(0);
    expect(second - 1).toBe(afterChunks); // the chunks published before the power cut did go out
    expect(order.slice(1, second)).toEqual(range(0, afterChunks));
    expect(order.slice(second + 1)).toEqual(range(0, total));
    // Healing: the rebooted device's HELLO listed the image.
    const hellos = o.server.from(o.mac).filter((r): r is typeof r & { message: Hello } => r.message.kind === 'hello');
    expect(hellos.map((h) => h.message.pending_list)).toContainEqual([capture?.imageName]);
    expect(o.history.ofType('device_sent_metadata')).toHaveLength(2);
    expectAllDelivered(o);
    // The reboot happened inside the one wake: no extra wake was used.
    expect(o.wakes).toBe(1);
  });

  test('torn SD write: the capture is lost (device_lost_capture), never sent; the device reboots and goes on', async () => {
    const o = await runOne({ tornWriteRate: 1 }, { imagesPerDevice: 2 });
    const [torn] = nemesisEvents(o.history, 'torn_write');
    expect(torn?.target).toBe(o.mac);
    const lost = o.history.ofType('device_lost_capture');
    expect(lost).toHaveLength(1);
    const [first, second] = captures(o.history);
    expect(lost[0]).toMatchObject({ mac: o.mac, imageName: first?.imageName, sha256: first?.sha256 });
    expect(torn?.seq).toBeLessThan(lost[0]?.seq ?? 0);
    // Never announced, never stored; the next capture (same wake, one torn write per wake) is delivered.
    expect(metadataOf(o.server, o.mac).map((mm) => mm.image_name)).not.toContain(first?.imageName);
    expect(o.server.stored.map((s) => s.sha256)).not.toContain(first?.sha256);
    expect(o.server.stored.map((s) => s.sha256)).toContain(second?.sha256);
    expect(finalQueue(o.history, o.mac)).toEqual([]);
  });

  test('flash counter reset: a later picture reuses image_1.jpg', async () => {
    const o = await runOne({ counterResetRate: 1 }, { imagesPerDevice: 2 });
    const resets = nemesisEvents(o.history, 'counter_reset');
    // Wake 1 has nothing to reset (counter 0): the first reset is before wake 2.
    expect(resets[0]).toMatchObject({ target: o.mac, detail: 'wake 2: flash counter 1 -> 0' });
    const [a, b] = captures(o.history);
    expect(a?.imageName).toBe('image_1.jpg');
    expect(b?.imageName).toBe('image_1.jpg');
    expect(a?.sha256).not.toBe(b?.sha256);
    expect(new Set(o.server.stored.map((s) => s.sha256))).toEqual(new Set([a?.sha256, b?.sha256]));
    expectAllDelivered(o);
  });

  test('double send: metadata and every chunk twice, back to back', async () => {
    const o = await runOne({ doubleSendRate: 1 });
    const [capture] = captures(o.history);
    const [event] = nemesisEvents(o.history, 'double_send');
    expect(event).toMatchObject({ target: o.mac });
    expect(event?.detail).toContain(capture?.imageName);
    const order = wireOrder(o.server, o.mac, capture?.imageName ?? '');
    const n = (order.length - 2) / 2;
    expect(order).toEqual(['M', ...range(0, n), 'M', ...range(0, n)]);
    expect(o.history.ofType('device_sent_metadata')).toHaveLength(2);
    expectAllDelivered(o);
  });

  test('interleaved send: two transfers of one image with their chunks interleaved', async () => {
    const o = await runOne({ interleavedSendRate: 1 });
    const [capture] = captures(o.history);
    expect(nemesisEvents(o.history, 'interleaved_send')[0]).toMatchObject({ target: o.mac });
    const order = wireOrder(o.server, o.mac, capture?.imageName ?? '');
    const n = (order.length - 2) / 2;
    const half = Math.ceil(n / 2);
    expect(order).toEqual(['M', ...range(0, half), 'M', ...range(0, n), ...range(half, n)]);
    expectAllDelivered(o);
  });

  test('corrupt message: one malformed message besides each transfer, refused with its code; the image still arrives', async () => {
    // A plain subscriber sees every /data payload, the malformed ones the scripted server's decoder drops included.
    const tap = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const refused: string[] = [];
    let wanted = Infinity;
    let allSeen: () => void = () => {};
    const seen = new Promise<void>((resolve) => (allSeen = resolve));
    tap.on('message', (topic, payload) => {
      const decoded = decodeDeviceMessage(topic, payload.toString('utf8'));
      if (!decoded.ok) refused.push(decoded.error.code);
      if (refused.length >= wanted) allSeen();
    });
    await tap.subscribeAsync('ESP32CAM/+/data', { qos: 1 });
    try {
      const o = await runOne({ corruptMessageRate: 1 }, { imagesPerDevice: 2, wakesMax: 2 });
      const faults = nemesisEvents(o.history, 'corrupt_message');
      const sent = o.history.ofType('device_sent_malformed');
      expect(faults.length).toBeGreaterThanOrEqual(2); // one per transfer
      expect(sent).toHaveLength(faults.length);
      for (const s of sent) {
        expect(s).toMatchObject({ mac: o.mac, topic: `ESP32CAM/${o.mac}/data` });
        expect(['bad_base64', 'truncated_json', 'mac_mismatch']).toContain(s.kind);
      }
      // The tap is another subscriber: its copies may still be on their way when the fleet is done.
      wanted = sent.length;
      if (refused.length >= wanted) allSeen();
      await seen;
      expect([...refused].sort()).toEqual(sent.map((s) => s.expectedCode).sort());
      expectAllDelivered(o);
    } finally {
      await tap.endAsync();
    }
  });

  test('duplicate metadata: the metadata message twice, then the chunks once', async () => {
    const o = await runOne({ duplicateMetadataRate: 1 });
    const [capture] = captures(o.history);
    expect(nemesisEvents(o.history, 'duplicate_metadata')[0]).toMatchObject({ target: o.mac });
    const order = wireOrder(o.server, o.mac, capture?.imageName ?? '');
    expect(order).toEqual(['M', 'M', ...range(0, order.length - 2)]);
    expectAllDelivered(o);
  });

  test('Wi-Fi outage of 2 wakes: captures queue offline, then one connected wake drains them (outage wakes not counted against wakesMax)', async () => {
    const o = await runOne({ wifiOutageRate: 1, wifiOutageWakes: 2 }, { imagesPerDevice: 3, wakesMax: 1 });
    expect(nemesisEvents(o.history, 'wifi_outage')).toEqual([
      expect.objectContaining({ target: o.mac, detail: 'wakes 1..2 without Wi-Fi' }),
    ]);
    expect(o.wakes).toBe(3);
    expect(o.outageWakes).toBe(2);
    // Nothing reached the server before wake 3; its first HELLO lists the two offline captures.
    const messages = o.server.from(o.mac);
    const firstHello = messages[0]?.message;
    expect(firstHello?.kind).toBe('hello');
    expect(firstHello?.kind === 'hello' ? firstHello.pending_list : []).toEqual(['image_1.jpg', 'image_2.jpg']);
    const wake3 = o.history.ofType('device_wake').find((e) => e.wake === 3)?.seq ?? 0;
    expect(o.history.events.filter((e: HistoryEvent) => e.type === 'device_captured' && e.seq < wake3).length).toBe(2);
    expect(captures(o.history)).toHaveLength(3);
    expectAllDelivered(o);
  });

  test('bad clock: the metadata timestamp reads 1970, unpadded; the device still sleeps on the true clock', async () => {
    const o = await runOne({ badClockRate: 1 });
    expect(nemesisEvents(o.history, 'bad_clock')[0]).toMatchObject({ target: o.mac });
    const [metadata] = metadataOf(o.server, o.mac);
    expect(metadata?.timestamp).toMatch(/^1970-1-1 0:0:\d{1,2}$/);
    expect(captures(o.history)[0]?.captureTimestamp).toBe(metadata?.timestamp);
    const sleeps = o.history.ofType('device_sleep');
    expect(sleeps.length).toBeGreaterThan(0);
    for (const sleep of sleeps) expect(sleep.untilMs).toBeGreaterThan(Date.UTC(2026, 0, 1));
    expectAllDelivered(o);
  });

  test('dialect drift: the device speaks the vendor-spec dialect (device/<id>/… topics, spec field names)', async () => {
    const o = await runOne({ dialectDriftRate: 1 });
    expect(nemesisEvents(o.history, 'dialect_drift')).toEqual([
      expect.objectContaining({ target: o.mac, detail: 'speaks the spec dialect' }),
    ]);
    const messages = o.server.from(o.mac);
    expect(messages.length).toBeGreaterThan(0);
    for (const r of messages) {
      expect(r.topic.startsWith(`device/${o.mac}/`)).toBe(true);
      expect(r.dialect).toBe('spec');
    }
    const hello = messages.find((r) => r.message.kind === 'hello');
    expect(JSON.parse(hello?.raw ?? '{}')).toMatchObject({ status: 'alive', pending_count: 0 });
    const metadata = JSON.parse(messages.find((r) => r.message.kind === 'metadata')?.raw ?? '{}') as object;
    expect(Object.keys(metadata)).toEqual(
      expect.arrayContaining(['capture_timestamp', 'max_chunk_size', 'total_chunks_count', 'temperature']),
    );
    expect(Object.keys(metadata)).not.toContain('timestamp');
    // Chunk ids stay 0-based (a per-deployment pipeline setting, not part of the drift).
    const firstChunk = messages.find((r) => r.message.kind === 'chunk');
    expect((JSON.parse(firstChunk?.raw ?? '{}') as { chunk_id?: number }).chunk_id).toBe(0);
    expectAllDelivered(o);
  });

  test('every device fault at once over a small fleet: all recorded, and after the heal phase every queue is empty', async () => {
    const server = await startScriptedServer(broker.url, 3);
    const { fleet, history } = testFleet(
      broker.url,
      {
        rebootRate: 0.3,
        tornWriteRate: 0.2,
        counterResetRate: 0.3,
        doubleSendRate: 0.2,
        interleavedSendRate: 0.2,
        duplicateMetadataRate: 0.2,
        wifiOutageRate: 0.2,
        wifiOutageWakes: 2,
        badClockRate: 0.2,
        dialectDriftRate: 0.5,
      },
      { devices: 6, imagesPerDevice: 3, wakesMax: 6 },
    );
    try {
      expect((await fleet.run()).aborted).toBe(false);
      expect((await fleet.heal()).aborted).toBe(false);
      const faults = new Set(history.ofType('nemesis').map((e) => e.fault));
      expect(faults.size).toBeGreaterThanOrEqual(6);
      const macs = new Set(fleet.drivers.map((d) => d.mac));
      for (const e of history.ofType('nemesis')) expect(macs.has(e.target ?? '')).toBe(true);
      for (const mac of macs) expect(finalQueue(history, mac)).toEqual([]);
      const lost = new Set(history.ofType('device_lost_capture').map((e) => e.sha256));
      const storedShas = new Set(server.stored.map((s) => s.sha256));
      for (const c of captures(history)) expect(storedShas.has(c.sha256) || lost.has(c.sha256), c.imageName).toBe(true);
      for (const sha of lost) expect(storedShas.has(sha)).toBe(false);
      expect(fleet.counters.faultsInjected).toBe(history.ofType('nemesis').length);
      expect(fleet.counters.capturesLost).toBe(lost.size);
    } finally {
      await fleet.shutdown();
      await server.stop();
    }
  });

  test('heal phase: faults stop and a device done with images still queued gets clean wakes until it drains', async () => {
    const server = await startScriptedServer(broker.url, 1);
    server.drainPending = false; // the server never asks for the offline capture during the run
    const { fleet, history } = testFleet(
      broker.url,
      { wifiOutageRate: 1, wifiOutageWakes: 1 },
      { imagesPerDevice: 1, wakesMax: 1 },
    );
    try {
      await fleet.run();
      const driver = fleet.drivers[0];
      if (!driver) throw new Error('no driver');
      expect(finalQueue(history, driver.mac)).toEqual(['image_1.jpg']);
      server.drainPending = true;
      const healStartSeq = history.events.at(-1)?.seq ?? 0;
      const healed = await fleet.heal();
      expect(healed.aborted).toBe(false);
      expect(finalQueue(history, driver.mac)).toEqual([]);
      // No fault after faults stopped: the heal wake had Wi-Fi although the outage rate is 1.
      expect(history.ofType('device_wake').some((e) => e.seq > healStartSeq)).toBe(true);
      expect(history.ofType('nemesis').filter((e) => e.seq > healStartSeq)).toEqual([]);
      expect(new Set(server.stored.map((s) => s.imageName))).toEqual(new Set(['image_1.jpg', 'image_2.jpg']));
    } finally {
      await fleet.shutdown();
      await server.stop();
    }
  });
});
