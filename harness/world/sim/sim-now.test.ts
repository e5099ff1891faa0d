// legacy-ttl's chunk expiry on a sim run's database: the chunks' received_at is stamped with the virtual instant the
// gate writes before each statement (sim-now.ts), and the expiry measures their age against the clock's now — so 30
// virtual minutes pass in no wall time, and the same schedule expires the same chunks on any machine.
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { migrateUp } from '../../../schema/runner.ts';
import { primaryTarget, scratchDatabase } from '../../../test/databases.ts';
import type { ScratchDatabase } from '../../db/scratch-database.ts';
import { expireChunks } from '../../pipeline/store/legacy.ts';
import { openGatedDatabase, type GatedDatabase } from './gated-database.ts';
import { installVirtualNow, SET_VIRTUAL_NOW_SQL } from './sim-now.ts';

const opened: { scratch: ScratchDatabase; client: pg.Client; gated: GatedDatabase }[] = [];
afterAll(async () => {
  for (const { scratch, client, gated } of opened) {
    await gated.abort();
    await client.end().catch(() => {});
    await scratch.drop();
  }
});

const START_MS = Date.UTC(2026, 0, 14, 6, 0, 0);
const TTL_MS = 30 * 60_000;

describe('virtual now in a sim run database (legacy-ttl)', () => {
  test('chunks stamped at virtual instants expire by virtual age, not by wall time', async () => {
    const server = primaryTarget().server;
    if (server === null) throw new Error('no database server for tests');
    const scratch = await scratchDatabase(server, 'sim_now');
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    await migrateUp(client, 'base');
    await migrateUp(client, 'pipeline');
    const admin = {
      query: async <R>(text: string | { text: string }, values?: readonly unknown[]) => {
        const r = await client.query(
          typeof text === 'string' ? text : text.text,
          values === undefined ? undefined : [...values],
        );
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      },
    };
    expect(await installVirtualNow(admin, START_MS)).toEqual(['image_chunks.received_at']);
    let nowMs = START_MS;
    let written = START_MS;
    const gated = await openGatedDatabase({
      url: scratch.url,
      slots: 1,
      beforeRelease: async (run) => {
        if (nowMs === written) return;
        await run(SET_VIRTUAL_NOW_SQL, [nowMs]);
        written = nowMs;
      },
    });
    opened.push({ scratch, client, gated });
    const { rows } = await client.query<{ image_id: string }>(
      `WITH d AS (INSERT INTO devices (device_mac, device_code) VALUES ('B8F862000001', 'DEVICE-1') RETURNING device_id)
       INSERT INTO device_images (device_id, image_name, captured_at, total_chunks, status)
       SELECT device_id, 'image_1.jpg', now(), 4, 'receiving' FROM d RETURNING image_id`,
    );
    const imageId = rows[0]!.image_id;
    const chunk = (id: number) =>
      gated.query(`INSERT INTO image_chunks (image_id, chunk_id, bytes) VALUES ($1, $2, '\\x00')`, [imageId, id]);
    await chunk(0); // at START_MS
    nowMs = START_MS + 10 * 60_000;
    await chunk(1); // the transfer's last chunk, 10 virtual minutes later
    const stamps = await client.query<{ ms: number }>(
      `SELECT (extract(epoch FROM received_at) * 1000)::float8 AS ms FROM image_chunks ORDER BY chunk_id`,
    );
    expect(stamps.rows.map((r) => r.ms)).toEqual([START_MS, START_MS + 10 * 60_000]);
    // Younger than the TTL by the virtual clock: kept (wall time since the stamps is far from what counts).
    nowMs = START_MS + 10 * 60_000 + TTL_MS - 1;
    expect(await expireChunks(gated, TTL_MS, nowMs)).toEqual([]);
    // Older: every chunk of the unfinished transfer goes, and received_chunks is recomputed (I4's bug).
    nowMs = START_MS + 10 * 60_000 + TTL_MS + 1;
    expect(await expireChunks(gated, TTL_MS, nowMs)).toEqual([{ imageId, chunksDeleted: 2, receivedChunks: 0 }]);
  });
});
