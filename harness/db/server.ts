// A Postgres server the rest of camfleet talks to: either the user's (DATABASE_URL) or an embedded one that
// camfleet starts itself. Callers never care which, beyond `kind` for their messages.
import type { DatabaseServer } from './database-server.ts';
import { startEmbeddedServer, type EmbeddedOptions } from './embedded-server.ts';
import { openExternalServer } from './external-server.ts';

export interface OpenServerOptions {
  /** DATABASE_URL; absent means embedded. */
  readonly databaseUrl?: string | undefined;
  readonly embedded?: EmbeddedOptions;
}

export async function openDatabaseServer(options: OpenServerOptions = {}): Promise<DatabaseServer> {
  if (options.databaseUrl) return openExternalServer(options.databaseUrl);
  return startEmbeddedServer(options.embedded ?? {});
}
