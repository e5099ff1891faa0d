// The live device transport: one mqtt.js connection per device session, client id = MAC (PROTOCOL.md §1), QoS 1
// by default (`qos: 0` models QoS-0 firmware). Thin on purpose: the firmware core decides everything.
import mqtt, { type MqttClient } from 'mqtt';

export interface DeviceTransportEvents {
  onMessage(topic: string, payload: Buffer): void;
  /** The session ended without being asked to (broker gone, socket error). */
  onLost(reason: string): void;
}

export interface DeviceTransport {
  /** Connects and subscribes to `subscriptions`; rejects on failure (the device then sees `connect_failed`). */
  connect(subscriptions: readonly string[]): Promise<void>;
  publish(topic: string, payload: string): void;
  /** Ends the session; by default after what is queued has gone out (mqtt.js' end()). `flush: false` ends it at
   *  once, dropping what is queued: the fleet's shutdown, which must not wait on a world that may have stopped. */
  disconnect(options?: { readonly flush?: boolean }): Promise<void>;
  readonly connected: boolean;
}

export interface MqttTransportOptions {
  readonly brokerUrl: string;
  readonly clientId: string;
  /** The device's login, where the broker asks for one (the embedded broker's auth: username = MAC). */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** A CA (PEM) to trust for an mqtts:// broker, besides the system's. */
  readonly ca?: string | undefined;
  readonly qos: 0 | 1;
  readonly connectTimeoutMs: number;
}

export function createMqttTransport(options: MqttTransportOptions, events: DeviceTransportEvents): DeviceTransport {
  let client: MqttClient | undefined;
  let closing = false;
  return {
    get connected() {
      return client?.connected ?? false;
    },
    async connect(subscriptions) {
      closing = false;
      const c = mqtt.connect(options.brokerUrl, {
        clientId: options.clientId,
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password }),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        clean: true,
        reconnectPeriod: 0, // the firmware decides when to try again
        connectTimeout: options.connectTimeoutMs,
        keepalive: 60,
      });
      client = c;
      // Only the current session's messages are the device's: a session it ended can outlive disconnect() (mqtt.js'
      // end() waits for every PUBACK; one the broker dropped never comes) and still be delivered to until the
      // next session takes it over. The firmware has moved on; so does the sim transport (device-transport.ts).
      c.on('message', (topic, payload) => {
        if (client === c) events.onMessage(topic, payload);
      });
      c.on('error', () => {}); // surfaced through connect's rejection or 'close'
      await new Promise<void>((resolve, reject) => {
        const fail = (error?: Error) => {
          c.removeListener('connect', ok);
          reject(error ?? new Error('connection closed'));
        };
        const ok = () => {
          c.removeListener('close', fail);
          resolve();
        };
        c.once('connect', ok);
        c.once('close', fail);
      });
      c.on('close', () => {
        if (!closing && client === c) events.onLost('connection closed');
      });
      if (subscriptions.length > 0) await c.subscribeAsync([...subscriptions], { qos: options.qos });
    },
    publish(topic, payload) {
      client?.publish(topic, payload, { qos: options.qos }, () => {});
    },
    async disconnect(options) {
      closing = true;
      const c = client;
      client = undefined;
      if (c) await c.endAsync(options?.flush === false).catch(() => {});
    },
  };
}
