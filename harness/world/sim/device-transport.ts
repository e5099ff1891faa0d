// A device's link to the in-memory router, with the shape of the live mqtt.js transport
// (simulator/transport/mqtt-transport.ts): one session per connect(), client id = MAC, a fixed QoS, no automatic
// reconnect (the firmware decides), onLost only when the broker side ends the session.
import type {
  DeviceTransport,
  DeviceTransportEvents,
  MqttTransportOptions,
} from '../../../simulator/transport/mqtt-transport.ts';
import type { Router, RouterConnection } from './router.ts';

/** The live transport's options are accepted as they are (brokerUrl and connectTimeoutMs mean nothing here). */
export type RouterTransportOptions = Pick<MqttTransportOptions, 'clientId' | 'qos'> & {
  /** Default true, as the live transport always connects; false for a persistent session (§3.1.2.4). */
  readonly cleanSession?: boolean;
};

export function createDeviceTransport(
  router: Router,
  options: RouterTransportOptions,
  events: DeviceTransportEvents,
): DeviceTransport {
  let current: RouterConnection | undefined;
  return {
    get connected() {
      return current?.open ?? false;
    },
    connect(subscriptions) {
      // A new connect replaces this transport's previous session, as the live one makes a new client.
      if (current?.open) router.close(current);
      current = undefined;
      let c: RouterConnection;
      try {
        c = router.connect(options.clientId, options.cleanSession ?? true, {
          receive: (topic, payload) => {
            if (current === c) events.onMessage(topic, payload);
          },
          lost: (reason) => {
            if (current === c) events.onLost(reason);
          },
        });
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      current = c;
      if (subscriptions.length > 0) {
        const granted = router.subscribe(
          c,
          subscriptions.map((filter) => ({ filter, qos: options.qos })),
        );
        // mqtt.js refuses an invalid filter before sending the SUBSCRIBE; the connect then fails.
        const refused = subscriptions.filter((_, i) => granted[i] === 128);
        if (refused.length > 0) {
          router.close(c);
          current = undefined;
          return Promise.reject(new Error(`Invalid topic ${refused.join(', ')}`));
        }
      }
      return Promise.resolve();
    },
    publish(topic, payload) {
      // Like mqtt.js after the session ended: nothing is sent.
      if (current?.open) router.publish(current, topic, payload, options.qos);
    },
    disconnect() {
      const c = current;
      current = undefined;
      if (c?.open) router.close(c);
      return Promise.resolve();
    },
  };
}
