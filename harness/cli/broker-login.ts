// Logging in to a broker of the user's (issue 11 "Device security"): a user name and password (MQTT_USERNAME /
// MQTT_PASSWORD, or the flags) and, for mqtts://, a CA to trust besides the system's (MQTT_CA_FILE / the flag). The
// credentials travel inside the broker URL (mqtt.js reads them there), which camfleet prints and writes only through
// redactUrl; the CA travels as its PEM text to every client of the run (devices, pipeline, fleet and consumer threads).
import { readFileSync } from 'node:fs';
import { urlWithCredentials } from '../world/broker-auth.ts';
import { flagGiven } from './sim-mode.ts';

export const brokerLoginOptions = {
  'mqtt-username': {
    type: 'string',
    default: process.env.MQTT_USERNAME,
    defaultDescription: '$MQTT_USERNAME',
    describe: 'user name on the --broker-url broker (never printed)',
  },
  'mqtt-password': {
    type: 'string',
    default: process.env.MQTT_PASSWORD,
    defaultDescription: '$MQTT_PASSWORD',
    describe: 'password on the --broker-url broker (never printed)',
  },
  'mqtt-ca-file': {
    type: 'string',
    default: process.env.MQTT_CA_FILE,
    defaultDescription: '$MQTT_CA_FILE',
    describe: 'a CA certificate (PEM) to trust for an mqtts:// broker, besides the system ones',
  },
} as const;

interface LoginArgs {
  readonly 'broker-url'?: string | undefined;
  readonly 'mqtt-username'?: string | undefined;
  readonly 'mqtt-password'?: string | undefined;
  readonly 'mqtt-ca-file'?: string | undefined;
}

/** What is wrong with the login flags, or undefined. `args`: the command line (flags given vs. the environment's). */
export function brokerLoginProblem(a: LoginArgs, args: readonly string[]): string | undefined {
  const url = a['broker-url'];
  if (!url) {
    // Set in the environment for other tools, they are simply not used with the embedded broker; given here, say so.
    const given = ['mqtt-username', 'mqtt-password', 'mqtt-ca-file'].find((f) => flagGiven(f, args));
    return given === undefined
      ? undefined
      : `--${given} is for a broker of yours (--broker-url or MQTT_URL); the embedded broker has logins of its own`;
  }
  if (a['mqtt-password'] && !a['mqtt-username']) return '--mqtt-password (MQTT_PASSWORD) needs --mqtt-username';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // checkWorldUrls says what is wrong with the URL
  }
  if (a['mqtt-username'] && parsed.username && flagGiven('mqtt-username', args))
    return 'the broker URL already names a user: give it there or with --mqtt-username, not both';
  const ca = a['mqtt-ca-file'];
  if (ca) {
    if (!['mqtts:', 'ssl:', 'tls:', 'wss:'].includes(parsed.protocol))
      return `--mqtt-ca-file (MQTT_CA_FILE) is for a TLS broker (mqtts://, wss://), not ${parsed.protocol}//`;
    try {
      if (!readFileSync(ca, 'utf8').includes('-----BEGIN CERTIFICATE-----'))
        return `--mqtt-ca-file ${ca}: not a PEM certificate (no BEGIN CERTIFICATE line)`;
    } catch (error) {
      return `--mqtt-ca-file ${ca}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    }
  }
  return undefined;
}

/** The broker URL with the user name and password in it (undefined URL: the embedded broker, no login). */
export function brokerUrlWithLogin(a: LoginArgs): string | undefined {
  const url = a['broker-url'] || undefined;
  if (url === undefined || !a['mqtt-username']) return url;
  // A URL that names its user keeps it (MQTT_USERNAME set for other tools does not override it).
  try {
    if (new URL(url).username !== '') return url;
  } catch {
    return url; // not a URL: checkWorldUrls says so
  }
  return urlWithCredentials(url, { username: a['mqtt-username'], password: a['mqtt-password'] ?? '' });
}

/** The CA's PEM text, when one is given with a broker URL. */
export function brokerCaOf(a: LoginArgs): string | undefined {
  const file = a['mqtt-ca-file'];
  return a['broker-url'] && file ? readFileSync(file, 'utf8') : undefined;
}
