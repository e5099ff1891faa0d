// A Postgres server the rest of camfleet talks to: either the user's (DATABASE_URL) or an embedded one that
// camfleet starts itself. Callers never care which, beyond `kind` for their messages.
import { startEmbeddedServer, type EmbeddedOptions } from './embedded-server.ts';
import { openExternalServer } from './external-server.ts';

export interface DatabaseServer {
  readonly kind: 'embedded' | 'external';
  /** Where to connect for administrative work (CREATE/DROP DATABASE), and the database a run may use directly. */
  readonly url: string;
  /** `host:port` for messages. */
  readonly address: string;
  /** The same server, another database. */
  urlFor(database: string): string;
  /** Stops an embedded server (deleting its temporary data); a no-op for an external one. */
  stop(): Promise<void>;
}

export interface OpenServerOptions {
  /** DATABASE_URL; absent means embedded. */
  readonly databaseUrl?: string | undefined;
  readonly embedded?: EmbeddedOptions;
}

export async function openDatabaseServer(options: OpenServerOptions = {}): Promise<DatabaseServer> {
  if (options.databaseUrl) return openExternalServer(options.databaseUrl);
  return startEmbeddedServer(options.embedded ?? {});
}

/** Replaces the database name of a postgres URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}
