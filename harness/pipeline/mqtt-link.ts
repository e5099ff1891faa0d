// The MQTT adapter: one client, QoS 1 subscriptions, publish, and backpressure. mqtt.js emits 'message' and then
// calls handleMessage(packet, done); holding `done` back stops it reading the next packet (and delays the PUBACK),
// so when the pipeline's buffers are full the broker and the TCP window hold the rest instead of our heap.
import { brokerEndpoint } from '../world/broker-auth.ts';
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { redactUrl } from '../world/redact.ts';
import { errorText } from './store/pool.ts';

export interface MqttLinkOptions {
  readonly url: string;
  /** A CA (PEM) to trust for an mqtts:// broker, besides the system's (--mqtt-ca-file). */
  readonly ca?: string | undefined;
  readonly clientId: string;
  readonly subscriptions: readonly string[];
  readonly log: (line: string) => void;
  readonly onMessage: (topic: string, payload: Buffer) => void;
  /** True while the pipeline wants no more messages for now. */
  readonly pressured: () => boolean;
  /** The backpressure poll and the bounded wait of `end()` run on it (mqtt.js keeps its own timers). Default
   *  realClock. */
  readonly clock?: Clock;
}

/** What the pipeline asks of a world's link: everything but where the broker is (the world knows that), and how
 *  many connections to open in its shared group (`consumerClientIds` names them). */
export type PipelineLinkOptions = Omit<MqttLinkOptions, 'url' | 'ca'> & {
  readonly consumers?: number;
  /** Messages the link may take in (and acknowledge) before pressured() holds the rest back at the broker
   *  (consumer-thread.ts; default CONSUMER_QUEUE_MAX). A link without a queue of its own (the sim router's) takes
   *  one at a time. */
  readonly queueMax?: number;
};

/** The client ids of a link's connections: `clientId` alone, or `<clientId>-c1` … `-cN`. */
export function consumerClientIds(clientId: string, consumers: number | undefined): string[] {
  const n = consumers ?? 1;
  return n <= 1 ? [clientId] : Array.from({ length: n }, (_, i) => `${clientId}-c${i + 1}`);
}

/** Where the pipeline's link comes from (PipelineOptions.link; a world's pipelineLink). */
export type PipelineLinkFactory = (options: PipelineLinkOptions) => Promise<MqttLink>;

export interface MqttLink {
  publish(topic: string, payload: string): Promise<void>;
  unsubscribe(): Promise<void>;
  end(): Promise<void>;
  /** Closes the socket at once: no DISCONNECT, no waiting for in-flight messages (a crash). */
  destroy(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 10_000;
const PRESSURE_POLL_MS = 5;
/** Between reconnect attempts after the broker went away (restart, network). */
const RECONNECT_PERIOD_MS = 500;

export async function connectMqttLink(o: MqttLinkOptions): Promise<MqttLink> {
  const clock = o.clock ?? realClock;
  let client: MqttClient;
  try {
    const { url, ...login } = brokerEndpoint(o.url);
    client = await mqtt.connectAsync(
      url,
      {
        ...login,
        clientId: o.clientId,
        clean: true,
        reconnectPeriod: RECONNECT_PERIOD_MS,
        connectTimeout: CONNECT_TIMEOUT_MS,
        keepalive: 30,
        ...(o.ca === undefined ? {} : { ca: o.ca }),
      },
      false,
    );
  } catch (error) {
    throw new Error(`pipeline: cannot connect to the MQTT broker at ${redactUrl(o.url)}: ${errorText(error)}`);
  }
  client.on('error', (error) => o.log(`pipeline: MQTT error: ${errorText(error)}`));
  client.on('offline', () => o.log('pipeline: MQTT connection lost, reconnecting'));
  // mqtt.js re-subscribes by itself after a reconnect with a clean session (`resubscribe`, on by default): the
  // broker (e.g. restarted) forgot our subscriptions, and its answer to the SUBSCRIBE re-establishes them.
  // (Registered after the first connect, so every 'connect' seen here is a reconnect.)
  client.on('connect', () => o.log(`pipeline: MQTT reconnected to ${redactUrl(o.url)}, subscriptions renewed`));
  client.on('message', (topic, payload) => {
    try {
      o.onMessage(topic, payload);
    } catch (error) {
      o.log(`pipeline: message handler failed on ${topic}: ${errorText(error)}`);
    }
  });
  client.handleMessage = (_packet, done) => {
    if (!o.pressured()) {
      done();
      return;
    }
    const wait = (): void => {
      if (o.pressured()) clock.setTimeout(wait, PRESSURE_POLL_MS);
      else done();
    };
    clock.setTimeout(wait, PRESSURE_POLL_MS);
  };
  const granted = await client.subscribeAsync([...o.subscriptions], { qos: 1 });
  const refused = granted.filter((g) => g.qos === 128);
  if (refused.length > 0) {
    await client.endAsync(true).catch(() => {});
    throw new Error(`pipeline: the broker refused the subscriptions ${refused.map((g) => g.topic).join(', ')}`);
  }
  return {
    async publish(topic, payload) {
      await client.publishAsync(topic, payload, { qos: 1 });
    },
    async unsubscribe() {
      if (client.connected) await client.unsubscribeAsync([...o.subscriptions]);
    },
    async end() {
      const graceful = client.endAsync().then(() => true);
      const timeout = new Promise<boolean>((resolve) => clock.setTimeout(() => resolve(false), 3000, { unref: true }));
      if (!(await Promise.race([graceful, timeout]))) await client.endAsync(true);
    },
    async destroy() {
      await client.endAsync(true);
    },
  };
}
