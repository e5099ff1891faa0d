// A real broker's queue overflowing (PROTOCOL.md §7 item 8, ARCHITECTURE.md §4): an extra QoS 1 subscriber to the
// devices' data topic that acknowledges each message only after `processMs`, one at a time. mqtt.js sends the
// PUBACK when `handleMessage` calls back and reads the next packet only then, so the broker's in-flight window for
// this client stays full and its per-client queue (Mosquitto: max_queued_messages, 1000 by default) overflows;
// Mosquitto then drops QoS 1 messages for it. The load it adds to the broker is the point: it is not a consumer the
// pipeline depends on. Healing: `stop()`.
import { brokerEndpoint } from '../world/broker-auth.ts';
import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { History } from '../history/history.ts';
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';

export interface SlowSubscriberOptions {
  /** Default `ESP32CAM/+/data`. */
  readonly topic?: string;
  /** How long each message is "processed" before its PUBACK. Default 50. */
  readonly processMs?: number;
  /** Default `camfleet-slow-subscriber-<random>`. */
  readonly clientId?: string;
  /** The per-message processing time runs on it. Default realClock. */
  readonly clock?: Clock;
  /** A CA (PEM) to trust for an mqtts:// broker. */
  readonly ca?: string | undefined;
}

export interface SlowSubscriberStats {
  /** Messages the broker delivered to it so far (each counted when it arrives, before its slow processing). */
  readonly received: number;
  /** Of those, already acknowledged. */
  readonly processed: number;
}

export interface SlowSubscriber {
  readonly clientId: string;
  stats(): SlowSubscriberStats;
  /** From now on, acknowledge at once (lets a test see what the broker still had queued). */
  speedUp(): void;
  stop(): Promise<void>;
}

export async function startSlowSubscriber(
  brokerUrl: string,
  history: History,
  options: SlowSubscriberOptions = {},
): Promise<SlowSubscriber> {
  const topic = options.topic ?? 'ESP32CAM/+/data';
  let processMs = options.processMs ?? 50;
  const clock = options.clock ?? realClock;
  const clientId = options.clientId ?? `camfleet-slow-subscriber-${randomBytes(4).toString('hex')}`;
  const ca = options.ca;
  let received = 0;
  let processed = 0;
  /** Messages being "processed": their timer and the acknowledgement it will send. */
  const pending = new Map<TimerHandle, () => void>();
  const { url, ...login } = brokerEndpoint(brokerUrl);
  const client: MqttClient = await mqtt.connectAsync(url, {
    ...login,
    clientId,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...(ca === undefined ? {} : { ca }),
  });
  client.on('error', () => {});
  client.on('message', () => received++);
  client.handleMessage = (_packet, callback) => {
    const done = () => {
      processed++;
      callback();
    };
    if (processMs <= 0) {
      done();
      return;
    }
    const timer = clock.setTimeout(() => {
      pending.delete(timer);
      done();
    }, processMs);
    pending.set(timer, done);
  };
  await client.subscribeAsync(topic, { qos: 1 });
  history.append({
    type: 'nemesis',
    fault: 'slow_subscriber',
    target: clientId,
    detail: `${topic}, ${processMs} ms per message`,
  });
  let stopped = false;
  return {
    clientId,
    stats: () => ({ received, processed }),
    speedUp() {
      processMs = 0;
      for (const [timer, done] of pending) {
        clock.clearTimeout(timer);
        pending.delete(timer);
        done();
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of pending.keys()) clock.clearTimeout(timer);
      pending.clear();
      await client.endAsync(true).catch(() => {});
    },
  };
}
