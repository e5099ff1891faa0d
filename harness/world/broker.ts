// The MQTT broker a run talks through: aedes in this process on 127.0.0.1 and a free port (default), or the
// broker MQTT_URL names (Mosquitto, EMQX, HiveMQ…), which we only check answers.
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { createServer, type Server, type Socket } from 'node:net';

export interface Broker {
  readonly kind: 'embedded' | 'external';
  readonly url: string;
  /** The in-process aedes instance (fault injection hooks use it); absent for an external broker. */
  readonly aedes?: Aedes;
  stop(): Promise<void>;
}

export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
  readonly exitCode = 2;
}

export const brokerConnectTimeoutMs = 5_000;

export async function openBroker(options: { url?: string | undefined } = {}): Promise<Broker> {
  if (options.url) return openExternalBroker(options.url);
  return startEmbeddedBroker();
}

export async function startEmbeddedBroker(): Promise<Broker> {
  // aedes' default concurrency (100) throttles a 500-device burst; each client's inflight window is small anyway.
  const aedes = await Aedes.createBroker({ concurrency: 1000 });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let stopped = false;
  return {
    kind: 'embedded',
    url: `mqtt://127.0.0.1:${port}`,
    aedes,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/** A short connect to the broker, so a wrong MQTT_URL costs seconds and says where it pointed. */
export async function probeBroker(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const client = await mqtt.connectAsync(url, {
      connectTimeout: brokerConnectTimeoutMs,
      reconnectPeriod: 0,
      clientId: `camfleet-probe-${process.pid}-${Date.now()}`,
    });
    await client.endAsync();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message || error.name : String(error) };
  }
}

async function openExternalBroker(url: string): Promise<Broker> {
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || '1883'}`;
  } catch {
    throw new BrokerUnavailableError(`MQTT_URL is not a URL: ${url}`);
  }
  const probe = await probeBroker(url);
  if (!probe.ok)
    throw new BrokerUnavailableError(`cannot connect to the MQTT broker at ${where} (MQTT_URL): ${probe.reason}`);
  return { kind: 'external', url, stop: () => Promise.resolve() };
}
