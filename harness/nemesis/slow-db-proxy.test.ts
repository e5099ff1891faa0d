// The slow-database proxy: real sockets in front of a real Postgres; every round trip through it is slower by at
// least the delay, and the results are unchanged.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { primaryTarget, scratchDatabase } from '../../test/databases.ts';
import type { ScratchDatabase } from '../db/scratch-database.ts';
import { History } from '../history/history.ts';
import { postgresAddress, startSlowDbProxy } from './slow-db-proxy.ts';

const target = primaryTarget();

describe(`slow database proxy (${target.label})`, () => {
  let scratch: ScratchDatabase;

  beforeAll(async () => {
    if (!target.server) throw new Error('no database server');
    scratch = await scratchDatabase(target.server, 'slow-db-proxy');
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  it('adds at least delayMs to every round trip; results are correct; recorded once', async () => {
    const delayMs = 100;
    const history = new History();
    const proxy = await startSlowDbProxy(scratch.url, delayMs, history);
    const client = new pg.Client({ connectionString: proxy.url });
    try {
      expect(postgresAddress(proxy.url)).toEqual({ host: '127.0.0.1', port: proxy.port });
      expect(new URL(proxy.url).pathname).toBe(new URL(scratch.url).pathname);
      await client.connect();
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const { rows } = await client.query<{ n: number; s: string }>('SELECT $1::int * 2 AS n, repeat($2, 3) AS s', [
          i,
          'ab',
        ]);
        const tookMs = performance.now() - started;
        expect(rows).toEqual([{ n: i * 2, s: 'ababab' }]);
        expect(tookMs).toBeGreaterThanOrEqual(delayMs - 1);
      }
      // A large result comes back intact (server → client is passed through).
      const { rows } = await client.query<{ n: number }>('SELECT g AS n FROM generate_series(1, 20000) g');
      expect(rows).toHaveLength(20_000);
      expect(rows[19_999]?.n).toBe(20_000);
      expect(history.ofType('nemesis').map((e) => e.fault)).toEqual(['slow_database']);
    } finally {
      await client.end().catch(() => {});
      await proxy.stop();
    }
  });

  it('stop() cuts proxied connections', async () => {
    const proxy = await startSlowDbProxy(scratch.url, 5);
    const client = new pg.Client({ connectionString: proxy.url });
    client.on('error', () => {});
    await client.connect();
    await proxy.stop();
    await expect(client.query('SELECT 1')).rejects.toThrow();
  });
});
