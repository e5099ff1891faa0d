// The forwarder's MQTT side: one client with the service login (the embedded broker lets only the service account
// subscribe to every device's topics, world/broker-auth.ts), subscribed to the device topics of both dialects — the
// same filters as the pipeline (serverSubscriptions) — every message handed to the WebhookDeliverer. At most
// `inFlightMax` messages are delivered at once: past that the client stops reading (the PUBACK waits), so a slow
// handler holds the broker back instead of filling our heap, as mqtt-link.ts does for the pipeline.
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { serverSubscriptions } from '../../simulator/protocol/index.ts';
import { brokerEndpoint } from '../world/broker-auth.ts';
import type { Clock } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { redactText, redactUrl } from '../world/redact.ts';
import { WebhookDeliverer, type ForwarderStats, type WebhookDelivererOptions } from './forwarder.ts';

export interface ForwarderOptions extends WebhookDelivererOptions {
  /** The broker, with the service login in it (a run's broker.url). */
  readonly brokerUrl: string;
  readonly brokerCa?: string | undefined;
  /** Default: both dialects' status and data topics. */
  readonly subscriptions?: readonly string[];
  /** Messages delivered at once at most; default 64. */
  readonly inFlightMax?: number;
  readonly clientId?: string;
}

export interface Forwarder {
  stats(): ForwarderStats;
  /** Its deliveries are at their bound: it has stopped reading (the broker holds the rest for it). */
  behind(): boolean;
  /** Resolves when every delivery is done and no message came in for a moment (or after `maxMs`: false). */
  idle(maxMs: number): Promise<boolean>;
  /** Stops reading; waits for the deliveries under way (at most `maxMs`), then disconnects. */
  stop(maxMs?: number): Promise<void>;
}

const IN_FLIGHT_MAX_DEFAULT = 64;
const PRESSURE_POLL_MS = 5;
/** Nothing taken in for this long (and nothing under way): the broker holds nothing more for the forwarder. */
const IDLE_QUIET_MS = 300;

export async function startForwarder(o: ForwarderOptions): Promise<Forwarder> {
  const clock: Clock = o.clock ?? realClock;
  const log = o.log ?? (() => {});
  const deliverer = new WebhookDeliverer({ ...o, clock, log });
  const inFlightMax = o.inFlightMax ?? IN_FLIGHT_MAX_DEFAULT;
  let taking = 0;
  const { url, ...login } = brokerEndpoint(o.brokerUrl);
  const client = await mqtt
    .connectAsync(
      url,
      {
        ...login,
        clientId: o.clientId ?? `camfleet-forwarder-${randomBytes(4).toString('hex')}`,
        clean: true,
        reconnectPeriod: 500,
        connectTimeout: 10_000,
        ...(o.brokerCa === undefined ? {} : { ca: o.brokerCa }),
      },
      false,
    )
    .catch((error: unknown) => {
      throw new Error(
        `forwarder: cannot connect to the MQTT broker at ${redactUrl(o.brokerUrl)}: ${redactText(String(error))}`,
      );
    });
  client.on('error', (error) => log(`forwarder: MQTT error: ${redactText(error.message)}`));
  let stopping = false;
  let lastTakenMs = clock.nowMs();
  client.on('message', (topic, payload) => {
    if (stopping) return;
    taking++;
    lastTakenMs = clock.nowMs();
    void deliverer.deliver(topic, payload).finally(() => taking--);
  });
  client.handleMessage = (_packet, done) => {
    const wait = (): void => {
      if (taking >= inFlightMax && !stopping) clock.setTimeout(wait, PRESSURE_POLL_MS);
      else done();
    };
    wait();
  };
  const subscriptions = [...(o.subscriptions ?? serverSubscriptions())];
  const granted = await client.subscribeAsync(subscriptions, { qos: 1 });
  if (granted.some((g) => g.qos === 128)) {
    await client.endAsync(true).catch(() => {});
    throw new Error(`forwarder: the broker refused the subscriptions ${subscriptions.join(', ')}`);
  }
  return {
    stats: () => deliverer.stats(),
    behind: () => taking >= inFlightMax,
    // Idle: nothing under way and nothing taken in for a while — while its deliveries were at their bound the broker
    // held messages for it, and those come in only as the deliveries end.
    async idle(maxMs) {
      const until = clock.nowMs() + maxMs;
      for (;;) {
        const left = until - clock.nowMs();
        if (left <= 0 || !(await deliverer.idle(left))) return false;
        const quietMs = clock.nowMs() - lastTakenMs;
        if (taking === 0 && quietMs >= IDLE_QUIET_MS) return true;
        await clock.sleep(Math.min(Math.max(1, IDLE_QUIET_MS - quietMs), Math.max(1, until - clock.nowMs())));
      }
    },
    async stop(maxMs = 10_000) {
      stopping = true;
      await client.unsubscribeAsync(subscriptions).catch(() => {});
      await deliverer.idle(maxMs);
      deliverer.cancel(); // what did not end in time is aborted: nothing may reach the handler after the run
      await client.endAsync(true).catch(() => {});
    },
  };
}
