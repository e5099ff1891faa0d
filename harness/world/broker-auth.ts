// Who may do what on the embedded broker (issue 11 "Device security"). Without it any client could publish on any
// device's topics: a client calling itself AABBCCDDEEFF published metadata and chunks on ESP32CAM/B8F862F9C1C4/data,
// they were stored as B's complete image, and B's /ack got the ACK_OK (a real B then drops a queued image of that
// name). Here every client logs in: a device with its MAC as user name and a password derived from the run's secret,
// the pipeline (and what else serves the run: an external pipeline, the slow-subscriber nemesis) with the service
// account. A device publishes only on its own status/data topics and subscribes only to its own cmd/ack; the
// service publishes only on cmd/ack topics (it never speaks as a device) and subscribes to what it likes. Pure: the
// aedes adapter (installBrokerAuth) and the sim router's model of it call these.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { normaliseDeviceId } from '../../simulator/protocol/mac.ts';
import { parseTopic } from '../../simulator/protocol/topics.ts';

export interface BrokerCredentials {
  readonly username: string;
  readonly password: string;
}

/** Who a logged-in client is. */
export type BrokerRole = { readonly kind: 'device'; readonly mac: string } | { readonly kind: 'service' };

/** The service account's user name (the pipeline and whatever else serves the run). */
export const SERVICE_USERNAME = 'camfleet-service';

export class BrokerAuth {
  private constructor(private readonly secret: Buffer) {}

  /** A fresh per-run secret. */
  static random(): BrokerAuth {
    return new BrokerAuth(randomBytes(32));
  }

  /** From a secret handed on (a fleet thread gets the run's). */
  static fromSecret(secretHex: string): BrokerAuth {
    return new BrokerAuth(Buffer.from(secretHex, 'hex'));
  }

  /** For handing on to a thread of the same run; a secret, never printed. */
  get secretHex(): string {
    return this.secret.toString('hex');
  }

  private passwordFor(account: string): string {
    return createHmac('sha256', this.secret).update(account).digest('hex');
  }

  /** A device's login: its MAC and the password only this run's secret gives. */
  device(mac: string): BrokerCredentials {
    const id = normaliseDeviceId(mac) ?? mac;
    return { username: id, password: this.passwordFor(`device:${id}`) };
  }

  get service(): BrokerCredentials {
    return { username: SERVICE_USERNAME, password: this.passwordFor('service') };
  }

  /** Who logs in with these, or undefined (refused). */
  authenticate(username: string | undefined, password: Buffer | string | undefined): BrokerRole | undefined {
    if (username === undefined || password === undefined) return undefined;
    const given = Buffer.from(password);
    const matches = (expected: string) => {
      const want = Buffer.from(expected);
      return given.length === want.length && timingSafeEqual(given, want);
    };
    if (username === SERVICE_USERNAME) return matches(this.service.password) ? { kind: 'service' } : undefined;
    const mac = normaliseDeviceId(username);
    if (mac === null || mac !== username) return undefined;
    return matches(this.device(mac).password) ? { kind: 'device', mac } : undefined;
  }
}

/**
 * Who a client is in the sim world's model of these logins (its router has no passwords): a client whose id is a
 * MAC is that device (PROTOCOL.md §1: a device connects with its MAC as client id), any other serves the run.
 */
export function simRoleOf(clientId: string): BrokerRole {
  const mac = normaliseDeviceId(clientId);
  return mac !== null && mac === clientId ? { kind: 'device', mac } : { kind: 'service' };
}

/** Why `role` may not publish on `topic`, or undefined when it may. */
export function publishRefusal(role: BrokerRole, topic: string): string | undefined {
  const parsed = parseTopic(topic);
  if (role.kind === 'service') {
    if (parsed.ok && (parsed.value.channel === 'cmd' || parsed.value.channel === 'ack')) return undefined;
    return `the service publishes only on device cmd/ack topics, not ${topic}`;
  }
  if (!parsed.ok) return `a device publishes only on its own status/data topics, not ${topic}`;
  const { deviceId, channel } = parsed.value;
  if (deviceId !== role.mac) return `device ${role.mac} may not publish as ${deviceId} (${topic})`;
  if (channel !== 'status' && channel !== 'data') return `a device does not publish on its ${channel} topic (${topic})`;
  return undefined;
}

/** Why `role` may not subscribe to `filter`, or undefined when it may. */
export function subscribeRefusal(role: BrokerRole, filter: string): string | undefined {
  if (role.kind === 'service') return undefined;
  if (filter.includes('+') || filter.includes('#'))
    return `device ${role.mac} may not subscribe to a wildcard (${filter})`;
  const parsed = parseTopic(filter);
  if (!parsed.ok) return `device ${role.mac} subscribes only to its own cmd/ack topics, not ${filter}`;
  const { deviceId, channel } = parsed.value;
  if (deviceId !== role.mac) return `device ${role.mac} may not subscribe to ${deviceId}'s ${channel} (${filter})`;
  if (channel !== 'cmd' && channel !== 'ack') return `a device does not subscribe to its ${channel} topic (${filter})`;
  return undefined;
}

/** A URL with these credentials in it (mqtt.js reads them from there); printed only through redactUrl. */
export function urlWithCredentials(url: string, credentials: BrokerCredentials): string {
  const u = new URL(url);
  u.username = encodeURIComponent(credentials.username);
  u.password = encodeURIComponent(credentials.password);
  return u.toString().replace(/\/$/, '');
}

/**
 * A broker URL split into where and who: mqtt.js splits `user:pass` at the last colon of the URL's user info, so
 * a password with a colon logs in as someone else; camfleet hands the login over as options instead (decoded, split
 * at the first colon as RFC 3986 reads it).
 */
export function brokerEndpoint(url: string): { url: string; username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  if (u.username === '' && u.password === '') return { url };
  const decoded = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text; // a stray % is taken as typed
    }
  };
  return {
    url: urlWithoutCredentials(url),
    username: decoded(u.username),
    ...(u.password === '' ? {} : { password: decoded(u.password) }),
  };
}

/** The URL without credentials. */
export function urlWithoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/$/, '');
}
