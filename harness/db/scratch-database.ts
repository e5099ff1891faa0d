// Isolation: every run and every test file gets a database of its own on the shared server, dropped afterwards, so
// two runs at once never see each other's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseServer } from './database-server.ts';

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(server: DatabaseServer, purpose: string): Promise<ScratchDatabase> {
  const tag = purpose
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `camfleet_${tag}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await adminQuery(server.url, `CREATE DATABASE ${name}`);
  let dropped = false;
  return {
    name,
    url: server.urlFor(name),
    async drop() {
      if (dropped) return;
      dropped = true;
      // FORCE (PG 13+) ends sessions a crashed test left open, so cleanup never fails on "being accessed".
      await adminQuery(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
