// The pipeline's link to the in-memory router, behaving as harness/pipeline/mqtt-link.ts does over mqtt.js: a clean
// session with QoS 1 subscriptions, backpressure through `pressured()` (the PUBACK and every later delivery wait
// while it is true), and after the broker went away a reconnect that subscribes again (mqtt.js' `resubscribe`)
// and then sends what was published meanwhile (mqtt.js keeps QoS 1 publishes of an offline client and sends them
// after the reconnect).
import type { MqttLink, MqttLinkOptions } from '../../pipeline/mqtt-link.ts';
import { redactUrl } from '../redact.ts';
import type { Router, RouterConnection } from './router.ts';

/** mqtt-link's options; `url` is optional here and only appears in messages. */
export type RouterLinkOptions = Omit<MqttLinkOptions, 'url'> & { readonly url?: string };

/** As mqtt-link's reconnectPeriod: the wait after a lost connection before the next attempt. */
const RECONNECT_PERIOD_MS = 500;

interface Pending {
  readonly topic: string;
  readonly payload: string;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export function connectRouterLink(router: Router, o: RouterLinkOptions): Promise<MqttLink> {
  const where = o.url === undefined ? 'the in-memory router' : redactUrl(o.url);
  let current: RouterConnection | undefined;
  let ended = false;
  let subscribed = true;
  let cancelWait: (() => void) | undefined;
  const outbox: Pending[] = [];

  const open = (): RouterConnection => {
    const c: RouterConnection = router.connect(o.clientId, true, {
      receive: (topic, payload) => {
        try {
          o.onMessage(topic, payload);
        } catch (error) {
          o.log(`pipeline: message handler failed on ${topic}: ${describeError(error)}`);
        }
      },
      pressured: o.pressured,
      lost: () => {
        if (ended || current !== c) return;
        current = undefined;
        o.log('pipeline: MQTT connection lost, reconnecting');
        router.later(attempt, RECONNECT_PERIOD_MS);
      },
    });
    return c;
  };

  const attempt = (): void => {
    if (ended || current) return;
    if (!router.isUp) {
      // mqtt.js keeps trying every reconnect period: the first try after the broker is back comes within one.
      cancelWait = router.onceUp(() => router.later(attempt, RECONNECT_PERIOD_MS));
      return;
    }
    const c = open();
    current = c;
    if (subscribed) router.subscribe(c, subscriptionsOf(o.subscriptions));
    o.log(`pipeline: MQTT reconnected to ${where}, subscriptions renewed`);
    for (const p of outbox.splice(0)) {
      router.publish(c, p.topic, p.payload, 1);
      p.resolve();
    }
  };

  if (!router.isUp)
    return Promise.reject(new Error(`pipeline: cannot connect to the MQTT broker at ${where}: the broker is down`));
  current = open();
  const granted = router.subscribe(current, subscriptionsOf(o.subscriptions));
  const refused = o.subscriptions.filter((_, i) => granted[i] === 128);
  if (refused.length > 0) {
    router.close(current);
    return Promise.reject(new Error(`pipeline: the broker refused the subscriptions ${refused.join(', ')}`));
  }

  const finish = (): Promise<void> => {
    ended = true;
    cancelWait?.();
    const c = current;
    current = undefined;
    if (c?.open) router.close(c);
    for (const p of outbox.splice(0)) p.reject(new Error('client disconnecting'));
    return Promise.resolve();
  };

  return Promise.resolve({
    publish(topic, payload) {
      if (ended) return Promise.reject(new Error('client disconnecting'));
      if (current?.open) {
        router.publish(current, topic, payload, 1);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => outbox.push({ topic, payload, resolve, reject }));
    },
    unsubscribe() {
      // As mqtt-link: only while connected; then mqtt.js also leaves them out of later resubscribes.
      if (current?.open) {
        router.unsubscribe(current, o.subscriptions);
        subscribed = false;
      }
      return Promise.resolve();
    },
    end: finish,
    destroy: finish,
  });
}

function subscriptionsOf(filters: readonly string[]): Array<{ filter: string; qos: 1 }> {
  return filters.map((filter) => ({ filter, qos: 1 }));
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
