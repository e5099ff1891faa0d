// Test-only world for fleet tests without Postgres: an in-process aedes broker and a scripted ingestion server (a
// plain mqtt.js client). The server answers HELLO with send_all_pending (images pending) and capture_image (until a
// device has been asked for `capturesPerDevice` pictures), or next_wake when it wants nothing; it assembles
// chunks and sends ACK_OK once it holds every chunk of an image (PROTOCOL.md §4–5). It records every message it
// received, in arrival order, so tests can assert what went over the wire.
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import {
  decodeDeviceMessage,
  encodeServerMessage,
  serverSubscriptions,
  type DeviceMessage,
  type Dialect,
  type ServerMessage,
} from '../../simulator/protocol/index.ts';
import { createRng } from '../../simulator/random/prng.ts';
import { liveWorld } from '../world/live/live-world.ts';
import { History } from '../history/history.ts';
import type { DeviceFaults } from '../nemesis/fault-plan.ts';
import { faultMixes } from '../nemesis/fault-plan.ts';
import { Fleet, type FleetOptions } from './fleet.ts';

export interface TestBroker {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

export interface ReceivedMessage {
  readonly topic: string;
  readonly dialect: Dialect;
  readonly mac: string;
  /** The payload as it arrived (JSON text). */
  readonly raw: string;
  readonly message: DeviceMessage;
}

export interface StoredImage {
  readonly mac: string;
  readonly imageName: string;
  readonly sha256: string;
  readonly timestamp: string;
}

interface Assembly {
  readonly timestamp: string;
  readonly sizeBytes: number;
  readonly total: number;
  readonly chunks: Map<number, Uint8Array>;
}

export interface ScriptedServer {
  readonly received: ReceivedMessage[];
  readonly stored: StoredImage[];
  /** Answer a HELLO that lists pending images with send_all_pending (default true). */
  drainPending: boolean;
  /** Messages from one device, in arrival order. */
  from(mac: string): ReceivedMessage[];
  stop(): Promise<void>;
}

export async function startScriptedServer(brokerUrl: string, capturesPerDevice: number): Promise<ScriptedServer> {
  const client: MqttClient = await mqtt.connectAsync(brokerUrl, { clientId: 'scripted-server', reconnectPeriod: 0 });
  const received: ReceivedMessage[] = [];
  const stored: StoredImage[] = [];
  const asked = new Map<string, number>();
  const assemblies = new Map<string, Assembly>();
  const send = (mac: string, dialect: Dialect, message: ServerMessage) => {
    const wire = encodeServerMessage(mac, message, dialect);
    client.publish(wire.topic, wire.payload, { qos: 1 });
  };
  const server: ScriptedServer = {
    received,
    stored,
    drainPending: true,
    from: (mac) => received.filter((r) => r.mac === mac),
    stop: () => client.endAsync(),
  };
  client.on('message', (topic, payload) => {
    const decoded = decodeDeviceMessage(topic, payload);
    if (!decoded.ok) return;
    const { message, topic: parsed } = decoded.value;
    const mac = parsed.deviceId;
    const dialect = parsed.dialect;
    received.push({ topic, dialect, mac, raw: payload.toString('utf8'), message });
    switch (message.kind) {
      case 'hello': {
        let answered = false;
        if (message.pendingImg > 0 && server.drainPending) {
          send(mac, dialect, { kind: 'send_all_pending' });
          answered = true;
        }
        const n = asked.get(mac) ?? 0;
        if (n < capturesPerDevice) {
          asked.set(mac, n + 1);
          send(mac, dialect, { kind: 'capture_image' });
          answered = true;
        }
        if (!answered) send(mac, dialect, { kind: 'next_wake', next_wake: '6:00PM' });
        return;
      }
      case 'metadata': {
        const key = `${mac}|${message.image_name}`;
        const existing = assemblies.get(key);
        // The same capture announced again keeps its chunks (resume); another capture under the name starts over.
        if (existing && existing.timestamp === message.timestamp && existing.sizeBytes === message.image_size) return;
        assemblies.set(key, {
          timestamp: message.timestamp,
          sizeBytes: message.image_size,
          total: message.total_chunk_count,
          chunks: new Map(),
        });
        return;
      }
      case 'chunk': {
        const key = `${mac}|${message.image_name}`;
        const assembly = assemblies.get(key);
        if (!assembly) return; // no metadata (or already complete): dropped
        assembly.chunks.set(message.chunk_id, message.payload);
        if (assembly.chunks.size < assembly.total) return;
        const hash = createHash('sha256');
        for (let id = 0; id < assembly.total; id++) hash.update(assembly.chunks.get(id) ?? new Uint8Array());
        stored.push({ mac, imageName: message.image_name, sha256: hash.digest('hex'), timestamp: assembly.timestamp });
        assemblies.delete(key);
        send(mac, dialect, { kind: 'ack_ok', image_name: message.image_name });
        return;
      }
      default:
        return;
    }
  });
  await client.subscribeAsync(serverSubscriptions(), { qos: 1 });
  return server;
}

/** A small fleet on `brokerUrl` with fast wakes: awake time real (ack/idle timeout `ackTimeoutMs`), sleeps ~10 ms. */
export function testFleet(
  brokerUrl: string,
  faults: Partial<DeviceFaults>,
  options: Partial<FleetOptions> = {},
): { fleet: Fleet; history: History } {
  const history = new History();
  const fleet = new Fleet({
    transport: liveWorld({ url: brokerUrl }).deviceTransport, // the live world's mqtt.js transport
    devices: 1,
    imagesPerDevice: 1,
    imageKbMean: 8,
    chunkBytes: 1024,
    wakesMax: 4,
    qos: 1,
    dialect: 'fw350',
    chunkIdBase: 0,
    rng: createRng(20260114),
    history,
    timeScale: 3_600_000,
    realSleepMsMax: 20,
    staggerMs: 0,
    concurrencyMax: 10,
    ackTimeoutMs: 600,
    startClockMs: Date.UTC(2026, 0, 14, 6, 0, 0),
    observeAck: () => Promise.resolve(true),
    deviceFaults: { ...faultMixes.none.device, ...faults },
    ...options,
  });
  return { fleet, history };
}
