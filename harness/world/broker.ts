// The MQTT broker a run talks through: aedes in this process on 127.0.0.1 and a free port (default), or the
// broker MQTT_URL names (Mosquitto, EMQX, HiveMQ…), which we only check answers.
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { createServer, type Server, type Socket } from 'node:net';
import {
  brokerEndpoint,
  publishRefusal,
  subscribeRefusal,
  urlWithCredentials,
  type BrokerAuth,
  type BrokerRole,
} from './broker-auth.ts';
import type { Clock } from './clock.ts';
import { realClock } from './live/real-clock.ts';
import { redactUrl } from './redact.ts';

export interface Broker {
  readonly kind: 'embedded' | 'external';
  /** Where the run's services connect; on an embedded broker with auth, with the service account in it (print it
   *  only through redactUrl). */
  readonly url: string;
  /** An embedded broker with auth: the run's logins (each device's, username = MAC; the service's, in `url`).
   *  Undefined: clients log in with nothing. */
  readonly auth?: BrokerAuth;
  /** A CA (PEM) every client trusts for this mqtts:// broker, besides the system's (--mqtt-ca-file). */
  readonly ca?: string;
  /** The in-process aedes instance (fault injection hooks use it); absent for an external broker. It changes on
   *  every `restart`, so read it when needed, or subscribe with `onAedes`. */
  readonly aedes?: Aedes;
  /** Embedded broker only: see EmbeddedBroker. */
  restart?(downMs: number): Promise<void>;
  /** Embedded broker only: see EmbeddedBroker. */
  onAedes?(listener: (aedes: Aedes) => void): () => void;
  stop(): Promise<void>;
}

/** The broker in this process: it can also be restarted (ARCHITECTURE.md §4, broker restart). */
export interface EmbeddedBroker extends Broker {
  readonly kind: 'embedded';
  readonly port: number;
  /** The current aedes instance (a new one after each restart). */
  readonly aedes: Aedes;
  /**
   * A broker restart: every client socket is cut, the listener closed and the old aedes instance (with its
   * in-memory sessions, subscriptions and in-flight QoS 1 messages) discarded; after `downMs` a fresh aedes listens
   * again on the same port. Resolves once it listens again (or at once when the broker was stopped meanwhile).
   */
  restart(downMs: number): Promise<void>;
  /** Called with each new aedes instance after a restart (hooks installed on the old one are gone with it).
   *  Returns the unsubscribe function. */
  onAedes(listener: (aedes: Aedes) => void): () => void;
  /** Called with each login, publish or subscribe the broker's auth refused. Returns the unsubscribe function. */
  onRefused(listener: (refusal: BrokerRefusal) => void): () => void;
}

/** What the embedded broker's auth refused. */
export interface BrokerRefusal {
  readonly action: 'connect' | 'publish' | 'subscribe';
  readonly clientId: string;
  /** The user name given (a MAC, the service account, or nothing). */
  readonly username: string | undefined;
  readonly topic: string | undefined;
  readonly reason: string;
}

export function isEmbeddedBroker(broker: Broker): broker is EmbeddedBroker {
  return broker.kind === 'embedded' && 'restart' in broker;
}

export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
  readonly exitCode = 2;
}

export const brokerConnectTimeoutMs = 5_000;

/** `clock`: an embedded broker's restart waits (`downMs`, the retries to listen again) run on it (default
 *  realClock). */
export async function openBroker(
  options: { url?: string | undefined; clock?: Clock; auth?: BrokerAuth | undefined; ca?: string | undefined } = {},
): Promise<Broker> {
  if (options.url) return openExternalBroker(options.url, options.ca);
  return startEmbeddedBroker({
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.auth === undefined ? {} : { auth: options.auth }),
  });
}

interface Listening {
  readonly aedes: Aedes;
  readonly server: Server;
  readonly sockets: Set<Socket>;
}

/** Makes `aedes` ask `auth` about every login, publish and subscribe; what it refuses goes to `refused`. */
export function installBrokerAuth(aedes: Aedes, auth: BrokerAuth, refused: (refusal: BrokerRefusal) => void): void {
  const roles = new WeakMap<object, BrokerRole>();
  const usernames = new WeakMap<object, string>();
  aedes.authenticate = (client, username, password, callback) => {
    const role = auth.authenticate(username, password);
    // A device connects with its MAC as client id (PROTOCOL.md §1): with another device's, it would take over that
    // device's session.
    if (role?.kind === 'device' && client.id !== role.mac) {
      refused({
        action: 'connect',
        clientId: client.id,
        username,
        topic: undefined,
        reason: `device ${role.mac} must connect with its MAC as client id, not ${client.id}`,
      });
      return callback(Object.assign(new Error('not authorized'), { returnCode: 5 }), false);
    }
    if (role === undefined) {
      refused({
        action: 'connect',
        clientId: client.id,
        username,
        topic: undefined,
        reason: username === undefined ? 'no credentials' : `bad credentials for ${username}`,
      });
      // CONNACK 4: bad user name or password (MQTT 3.1.1 §3.2.2.3).
      return callback(Object.assign(new Error('bad user name or password'), { returnCode: 4 }), false);
    }
    roles.set(client, role);
    if (username !== undefined) usernames.set(client, username);
    callback(null, true);
  };
  aedes.authorizePublish = (client, packet, callback) => {
    // A will aedes publishes for a client long gone has none: not a client's publish.
    if (client === null) return callback(null);
    const role = roles.get(client);
    const why = role === undefined ? 'not logged in' : publishRefusal(role, packet.topic);
    if (why === undefined) return callback(null);
    refused({
      action: 'publish',
      clientId: client.id,
      username: usernames.get(client),
      topic: packet.topic,
      reason: why,
    });
    // aedes closes the client's connection (MQTT-3.3.5-2: no error goes back to it).
    callback(new Error(why));
  };
  aedes.authorizeSubscribe = (client, subscription, callback) => {
    const role = roles.get(client);
    const why = role === undefined ? 'not logged in' : subscribeRefusal(role, subscription.topic);
    if (why === undefined) return callback(null, subscription);
    refused({
      action: 'subscribe',
      clientId: client.id,
      username: usernames.get(client),
      topic: subscription.topic,
      reason: why,
    });
    callback(null, null); // a negated subscription: SUBACK 128 for it, the connection stays
  };
}

async function listenAedes(
  port: number,
  auth?: { auth: BrokerAuth; refused: (r: BrokerRefusal) => void },
): Promise<Listening> {
  // aedes' default concurrency (100) throttles a 500-device burst; each client's inflight window is small anyway.
  const aedes = await Aedes.createBroker({ concurrency: 1000 });
  if (auth !== undefined) installBrokerAuth(aedes, auth.auth, auth.refused);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw error;
  }
  return { aedes, server, sockets };
}

async function closeListening(l: Listening): Promise<void> {
  const closed = new Promise<void>((resolve) => l.server.close(() => resolve()));
  for (const socket of l.sockets) socket.destroy();
  await closed;
  await new Promise<void>((resolve) => l.aedes.close(() => resolve()));
}

/** `auth`: every client logs in and is held to its topics (broker-auth.ts); without it, anyone may do anything. */
export async function startEmbeddedBroker(options: { clock?: Clock; auth?: BrokerAuth } = {}): Promise<EmbeddedBroker> {
  const clock = options.clock ?? realClock;
  const refusalListeners = new Set<(refusal: BrokerRefusal) => void>();
  const auth =
    options.auth === undefined
      ? undefined
      : { auth: options.auth, refused: (r: BrokerRefusal) => refusalListeners.forEach((l) => l(r)) };
  let current: Listening | undefined = await listenAedes(0, auth);
  const address = current.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let aedes = current.aedes;
  let stopped = false;
  let restarting: Promise<void> | undefined;
  const listeners = new Set<(aedes: Aedes) => void>();

  const restartOnce = async (downMs: number): Promise<void> => {
    const old = current;
    current = undefined;
    if (old) await closeListening(old);
    await clock.sleep(Math.max(0, downMs));
    if (stopped) return;
    // The port was ours a moment ago; Node sets SO_REUSEADDR, so a fresh listener can take it at once. Retry a
    // few times in case the kernel is slow to release it.
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        current = await listenAedes(port, auth);
        break;
      } catch (error) {
        lastError = error;
        await clock.sleep(50);
      }
    }
    if (!current) throw new Error(`broker restart: cannot listen again on 127.0.0.1:${port}: ${String(lastError)}`);
    if (stopped) {
      await closeListening(current);
      current = undefined;
      return;
    }
    aedes = current.aedes;
    for (const listener of listeners) listener(aedes);
  };

  const plainUrl = `mqtt://127.0.0.1:${port}`;
  const logins = options.auth;
  return {
    kind: 'embedded',
    url: logins === undefined ? plainUrl : urlWithCredentials(plainUrl, logins.service),
    ...(logins === undefined ? {} : { auth: logins }),
    port,
    get aedes() {
      return aedes;
    },
    async restart(downMs) {
      if (stopped) return;
      // Restarts never overlap: a second one waits for the first to be listening again.
      const previous = restarting ?? Promise.resolve();
      const next = previous.then(() => restartOnce(downMs));
      restarting = next.catch(() => {});
      await next;
    },
    onAedes(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onRefused(listener) {
      refusalListeners.add(listener);
      return () => refusalListeners.delete(listener);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await restarting;
      listeners.clear();
      refusalListeners.clear();
      const last = current;
      current = undefined;
      if (last) await closeListening(last);
    },
  };
}

/** A short connect to the broker, so a wrong MQTT_URL costs seconds and says where it pointed. */
export async function probeBroker(url: string, ca?: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const { url: where, ...login } = brokerEndpoint(url);
    const client = await mqtt.connectAsync(where, {
      ...login,
      ...(ca === undefined ? {} : { ca }),
      connectTimeout: brokerConnectTimeoutMs,
      reconnectPeriod: 0,
      clientId: `camfleet-probe-${process.pid}-${Date.now()}`, // wall time: only to make the id unique
    });
    await client.endAsync();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message || error.name : String(error) };
  }
}

async function openExternalBroker(url: string, ca: string | undefined): Promise<Broker> {
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || '1883'}`;
  } catch {
    throw new BrokerUnavailableError(`MQTT_URL is not a URL: ${redactUrl(url)}`);
  }
  const probe = await probeBroker(url, ca);
  if (!probe.ok)
    throw new BrokerUnavailableError(`cannot connect to the MQTT broker at ${where} (MQTT_URL): ${probe.reason}`);
  return { kind: 'external', url, ...(ca === undefined ? {} : { ca }), stop: () => Promise.resolve() };
}
