// Where a run's broker and database are: the same two options on every command that runs a fleet.
export const worldOptions = {
  'broker-url': {
    type: 'string',
    default: process.env.MQTT_URL,
    defaultDescription: '$MQTT_URL, else aedes in-process',
    describe: 'MQTT broker to use',
  },
  'database-url': {
    type: 'string',
    default: process.env.DATABASE_URL,
    defaultDescription: '$DATABASE_URL, else embedded',
    describe: 'Postgres server; each run creates and drops its own database there',
  },
} as const;

const postgresProtocols = ['postgres:', 'postgresql:'];
// The schemes mqtt.js connects with.
const brokerProtocols = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'];

/** Where a value came from, for messages: the flag when it is on the command line, else the environment variable. */
export function urlSource(flag: string, envName: string, args: readonly string[]): string {
  return args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`)) ? `--${flag}` : envName;
}

function isUrlOf(value: string, protocols: readonly string[], needsHost: boolean): boolean {
  try {
    const u = new URL(value);
    // libpq also takes `postgres:///db?host=/run/postgresql` (a socket), so a Postgres URL may leave the host out.
    return protocols.includes(u.protocol) && (!needsHost || u.hostname !== '');
  } catch {
    return false;
  }
}

/**
 * The world URLs checked before anything connects, so `notaurl` reads as what it is rather than as a DNS failure of
 * some host. Throws one line naming the flag or variable the value came from (the value itself is redacted by the
 * usage-error printer). `args` are the command-line arguments (default: this process's).
 */
export function checkWorldUrls(
  a: { readonly 'broker-url'?: string | undefined; readonly 'database-url'?: string | undefined },
  args: readonly string[] = process.argv.slice(2),
): void {
  const database = a['database-url'];
  if (database && !isUrlOf(database, postgresProtocols, false))
    throw new Error(
      `${urlSource('database-url', 'DATABASE_URL', args)}: ${database} is not a valid Postgres URL (postgres://user@host:port/db)`,
    );
  const broker = a['broker-url'];
  if (broker && !isUrlOf(broker, brokerProtocols, true))
    throw new Error(
      `${urlSource('broker-url', 'MQTT_URL', args)}: ${broker} is not a valid MQTT broker URL (mqtt://host:port; also mqtts://, ws://, wss://)`,
    );
}
