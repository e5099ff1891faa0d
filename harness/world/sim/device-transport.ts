// A device's link to the in-memory router, with the shape of the live mqtt.js transport
// (simulator/transport/mqtt-transport.ts): one session per connect(), client id = MAC, a fixed QoS, no automatic
// reconnect (the firmware decides), onLost only when the broker side ends the session.
//
// With an `uplink`, what the device publishes takes virtual time to leave it: each message holds the device's radio
// for its size over `bytesPerMs`, in order, and reaches the router when it has been sent. Without it a whole
// transfer would reach the router in one virtual instant, so no two devices' transfers would overlap, nothing the
// server does would happen between two chunks, and progress triggers (`10-receiving`) would never see transfers in
// flight. A disconnect lets what is queued go out first (mqtt.js' end() flushes too); a session the broker ends
// loses what had not gone out, as a dead socket does.
import type {
  DeviceTransport,
  DeviceTransportEvents,
  MqttTransportOptions,
} from '../../../simulator/transport/mqtt-transport.ts';
import type { Clock } from '../clock.ts';
import type { Router, RouterConnection } from './router.ts';

/** The device's radio, on the world's clock. */
export interface Uplink {
  readonly clock: Clock;
  /** Throughput of the device's MQTT publishes. */
  readonly bytesPerMs: number;
}

/** A PUBLISH's bytes beyond its payload and topic: fixed header, topic length, packet id. */
const PUBLISH_OVERHEAD_BYTES = 6;

/** The live transport's options are accepted as they are (brokerUrl and connectTimeoutMs mean nothing here). */
export type RouterTransportOptions = Pick<MqttTransportOptions, 'clientId' | 'qos'> & {
  /** Default true, as the live transport always connects; false for a persistent session (§3.1.2.4). */
  readonly cleanSession?: boolean;
  /** Default none: a publish reaches the router at once. */
  readonly uplink?: Uplink;
};

/** One session's messages still on the radio. */
interface Outgoing {
  readonly connection: RouterConnection;
  queued: number;
  readonly drained: (() => void)[];
}

export function createDeviceTransport(
  router: Router,
  options: RouterTransportOptions,
  events: DeviceTransportEvents,
): DeviceTransport {
  let current: RouterConnection | undefined;
  let outgoing: Outgoing | undefined;
  /** When the radio is free again (virtual ms). */
  let radioFreeAtMs = Number.NEGATIVE_INFINITY;
  const { uplink } = options;
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
      outgoing = { connection: c, queued: 0, drained: [] };
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
      if (!current?.open) return;
      if (uplink === undefined || outgoing === undefined) {
        router.publish(current, topic, payload, options.qos);
        return;
      }
      const session = outgoing;
      const nowMs = uplink.clock.nowMs();
      const bytes = Buffer.byteLength(payload) + Buffer.byteLength(topic) + PUBLISH_OVERHEAD_BYTES;
      radioFreeAtMs = Math.max(nowMs, radioFreeAtMs) + Math.max(1, Math.ceil(bytes / uplink.bytesPerMs));
      session.queued += 1;
      uplink.clock.setTimeout(() => {
        session.queued -= 1;
        // Sent while its session lasts (a disconnect in progress included); lost with a session the broker ended.
        if (session.connection.open) router.publish(session.connection, topic, payload, options.qos);
        if (session.queued === 0) for (const done of session.drained.splice(0)) done();
      }, radioFreeAtMs - nowMs);
    },
    disconnect(disconnectOptions) {
      const c = current;
      const session = outgoing;
      current = undefined;
      outgoing = undefined;
      if (!c?.open) return Promise.resolve();
      if (session === undefined || session.queued === 0 || disconnectOptions?.flush === false) {
        router.close(c);
        return Promise.resolve();
      }
      return new Promise<void>((resolve) =>
        session.drained.push(() => {
          if (c.open) router.close(c);
          resolve();
        }),
      );
    },
  };
}
