// Test-side access to Postgres: a scratch database per test file (or per suite), dropped afterwards.
import pg from 'pg';
import { inject } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../harness/db/scratch-database.ts';
import { describeAddress } from '../harness/db/database-error.ts';
import { withDatabase, type DatabaseServer } from '../harness/db/database-server.ts';

export interface DatabaseTarget {
  /** Shown in suite names, so a skipped external suite says why. */
  readonly label: string;
  readonly server: DatabaseServer | null;
  readonly skipReason: string | null;
}

function serverAt(kind: 'embedded' | 'external', url: string): DatabaseServer {
  return {
    kind,
    url,
    address: describeAddress(url),
    urlFor: (database) => withDatabase(url, database),
    stop: () => Promise.resolve(),
  };
}

export function primaryTarget(): DatabaseTarget {
  const primary = inject('primaryDatabase');
  return {
    label:
      primary.kind === 'embedded' ? 'embedded Postgres' : `Postgres at ${describeAddress(primary.url)} (DATABASE_URL)`,
    server: serverAt(primary.kind, primary.url),
    skipReason: null,
  };
}

export function externalTarget(): DatabaseTarget {
  const ext = inject('externalDatabase');
  const address = describeAddress(ext.url);
  return ext.reachable
    ? { label: `PostgreSQL server at ${address}`, server: serverAt('external', ext.url), skipReason: null }
    : {
        label: `PostgreSQL server at ${address} — SKIPPED, not reachable: ${ext.reason}`,
        server: null,
        skipReason: ext.reason,
      };
}

/** The primary database, plus the machine's PostgreSQL server when the primary is embedded (so both get tested). */
export function databaseTargets(): DatabaseTarget[] {
  const primary = primaryTarget();
  return primary.server?.kind === 'embedded' ? [primary, externalTarget()] : [primary];
}

export async function scratchDatabase(server: DatabaseServer, purpose: string): Promise<ScratchDatabase> {
  return createScratchDatabase(server, purpose);
}

export function newPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {}); // a dropped test database must not crash the worker
  return pool;
}

/** The machine's MQTT broker (Mosquitto), or why it is skipped. */
export function externalBrokerTarget(): { label: string; url: string | null } {
  const ext = inject('externalBroker');
  return ext.reachable
    ? { label: `MQTT broker at ${ext.url}`, url: ext.url }
    : { label: `MQTT broker at ${ext.url} — SKIPPED, not reachable: ${ext.reason}`, url: null };
}
