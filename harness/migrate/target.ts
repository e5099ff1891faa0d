// Where `npm run migrate` works: the database DATABASE_URL names, or — by default — the database `camfleet` of an
// embedded server whose data persists in a directory (default .camfleet/pgdata), so one command can seed
// duplicates and the next can preview and clean them.
import pg from 'pg';
import { embeddedCredentials } from '../db/embedded-server.ts';
import { openDatabaseServer, type DatabaseServer } from '../db/server.ts';

export const defaultDataDir = '.camfleet/pgdata';
const embeddedDatabase = 'camfleet';

export interface MigrationTarget {
  readonly client: pg.Client;
  /** For messages: "embedded Postgres (.camfleet/pgdata)" or "Postgres at host:port (DATABASE_URL)". */
  readonly description: string;
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
    return {
      client,
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
