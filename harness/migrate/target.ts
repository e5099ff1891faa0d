// Where `npm run migrate` works: the database DATABASE_URL names, or — by default — the database `camfleet` of an
// embedded server whose data persists in a directory (default .camfleet/pgdata), so one command can seed
// duplicates and the next can preview and clean them.
import pg from 'pg';
import { embeddedCredentials } from '../db/embedded-server.ts';
import type { DatabaseServer } from '../db/database-server.ts';
import { openDatabaseServer } from '../db/server.ts';

export const defaultDataDir = '.camfleet/pgdata';
const embeddedDatabase = 'camfleet';

export interface MigrationTarget {
  readonly client: pg.Client;
  /** For messages: "embedded Postgres (.camfleet/pgdata)" or "Postgres at host:port (DATABASE_URL)". */
  readonly description: string;
  /**
   * Cancels the statement `client` is running (Ctrl-C), from a second connection: the step fails at once and its
   * transaction (the file's own BEGIN … COMMIT) is rolled back, instead of the command waiting for a long step — or
   * a lock — before it can stop and close cleanly.
   */
  cancelRunningStatement(): Promise<void>;
  /** For the embedded server: the psql command that reaches its database while this target is open. */
  readonly psql: string | undefined;
  close(): Promise<void>;
}

export async function openMigrationTarget(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
}): Promise<MigrationTarget> {
  const server: DatabaseServer = await openDatabaseServer(
    options.databaseUrl ? { databaseUrl: options.databaseUrl } : { embedded: { dataDir: options.dataDir } },
  );
  try {
    let url = server.url;
    if (server.kind === 'embedded') {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [embeddedDatabase]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${embeddedDatabase}`);
      await admin.end();
      url = server.urlFor(embeddedDatabase);
    }
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backendPid = rows[0]?.pid;
    return {
      client,
      async cancelRunningStatement() {
        const canceller = new pg.Client({ connectionString: url });
        canceller.on('error', () => {});
        try {
          await canceller.connect();
          await canceller.query('SELECT pg_cancel_backend($1)', [backendPid]);
        } finally {
          await canceller.end().catch(() => {});
        }
      },
      description:
        server.kind === 'embedded'
          ? `embedded Postgres (data in ${options.dataDir})`
          : `Postgres at ${server.address} (DATABASE_URL)`,
      psql:
        server.kind === 'embedded'
          ? `psql -h ${server.address.replace(/:\d+$/, '')} -p ${server.address.replace(/^.*:/, '')} -U ${embeddedCredentials.user} ${embeddedDatabase}`
          : undefined,
      async close() {
        await client.end().catch(() => {});
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
