// DATABASE_URL: a server someone else runs (the PostgreSQL 15 of our machines, Supabase, …). We only check that it
// answers, quickly, so a wrong URL costs the user seconds, not a hang.
import pg from 'pg';
import { DatabaseUnavailableError, describeAddress, describeConnectError } from './database-error.ts';
import { withDatabase, type DatabaseServer } from './database-server.ts';

/** Well under the promised 10 s, leaving room for start-up around it. */
export const connectTimeoutMs = 5_000;

export async function probeDatabase(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  } catch (error) {
    return { ok: false, reason: describeConnectError(error) };
  }
  client.on('error', () => {}); // a late socket error must not crash the process
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: describeConnectError(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

export async function openExternalServer(url: string): Promise<DatabaseServer> {
  const address = describeAddress(url);
  const probe = await probeDatabase(url);
  if (!probe.ok) {
    throw new DatabaseUnavailableError(`cannot connect to Postgres at ${address} (DATABASE_URL): ${probe.reason}`);
  }
  return {
    kind: 'external',
    url,
    address,
    urlFor: (database) => withDatabase(url, database),
    stop: () => Promise.resolve(),
  };
}
