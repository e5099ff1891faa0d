// A sharded run's histories, in its database (shard.ts): each shard stores what it observed when its fleet is done,
// and `npm run check` reads every shard's back as one history. The checker orders by seq, and each shard numbered
// its own: the merge orders the events by when they were observed (wall-clock ms: shards on one machine, or on
// machines whose clocks NTP keeps within a few ms), then by shard and seq, and numbers them again.
import type pg from 'pg';
import type { HistoryEvent } from '../history/events.ts';
import { redactText } from '../world/redact.ts';
import type { Shard } from './shard.ts';

/** Events a row holds at most (rows stay well below Postgres' 1 GB per value). */
const EVENTS_PER_PART = 20_000;

export async function createShardHistoryTables(client: pg.ClientBase): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS camfleet_shards (
      run_id text NOT NULL,
      shard int NOT NULL,
      shards int NOT NULL,
      devices_from int NOT NULL,
      devices_to int NOT NULL,
      aborted boolean NOT NULL,
      stored_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, shard)
    );
    CREATE TABLE IF NOT EXISTS camfleet_shard_histories (
      run_id text NOT NULL,
      shard int NOT NULL,
      part int NOT NULL,
      events text NOT NULL,
      PRIMARY KEY (run_id, shard, part)
    )`);
}

export interface StoredShard {
  readonly shard: Shard;
  readonly devices: { readonly from: number; readonly to: number };
  readonly aborted: boolean;
}

/** Stores (replaces) one shard's history, in one transaction: a shard run again overwrites its earlier attempt. */
export async function storeShardHistory(
  pool: pg.Pool,
  stored: StoredShard,
  events: readonly HistoryEvent[],
  secrets: readonly (string | undefined)[],
): Promise<void> {
  const { shard } = stored;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('DELETE FROM camfleet_shard_histories WHERE run_id = $1 AND shard = $2', [
      shard.runId,
      shard.index,
    ]);
    await client.query('DELETE FROM camfleet_shards WHERE run_id = $1 AND shard = $2', [shard.runId, shard.index]);
    for (let part = 0; part * EVENTS_PER_PART < events.length || part === 0; part++) {
      const slice = events.slice(part * EVENTS_PER_PART, (part + 1) * EVENTS_PER_PART);
      // A history may quote an error holding a URL with its password (as the NDJSON file masks it).
      const ndjson = slice.map((e) => redactText(JSON.stringify(e), secrets)).join('\n');
      await client.query('INSERT INTO camfleet_shard_histories (run_id, shard, part, events) VALUES ($1, $2, $3, $4)', [
        shard.runId,
        shard.index,
        part,
        ndjson,
      ]);
    }
    await client.query(
      'INSERT INTO camfleet_shards (run_id, shard, shards, devices_from, devices_to, aborted) VALUES ($1, $2, $3, $4, $5, $6)',
      [shard.runId, shard.index, shard.count, stored.devices.from, stored.devices.to, stored.aborted],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export interface RunHistory {
  /** The shard count the stored shards name (undefined: none stored). */
  readonly shards: number | undefined;
  readonly stored: readonly { readonly shard: number; readonly devices: number; readonly aborted: boolean }[];
  /** Shards of 1..shards with no history stored. */
  readonly missing: readonly number[];
  readonly events: readonly HistoryEvent[];
}

/** Every stored shard's history of `runId`, merged into one (see the file's comment for the order). */
export async function readRunHistory(db: pg.Pool | pg.ClientBase, runId: string): Promise<RunHistory> {
  const shardRows = (
    await db.query<{ shard: number; shards: number; devices_from: number; devices_to: number; aborted: boolean }>(
      'SELECT shard, shards, devices_from, devices_to, aborted FROM camfleet_shards WHERE run_id = $1 ORDER BY shard',
      [runId],
    )
  ).rows;
  const shards = shardRows.length === 0 ? undefined : Math.max(...shardRows.map((r) => r.shards));
  const have = new Set(shardRows.map((r) => r.shard));
  const missing =
    shards === undefined ? [] : Array.from({ length: shards }, (_, i) => i + 1).filter((k) => !have.has(k));
  const parts = (
    await db.query<{ shard: number; events: string }>(
      'SELECT shard, events FROM camfleet_shard_histories WHERE run_id = $1 ORDER BY shard, part',
      [runId],
    )
  ).rows;
  const tagged: { shard: number; event: HistoryEvent }[] = [];
  for (const part of parts) {
    if (part.events === '') continue;
    for (const line of part.events.split('\n'))
      tagged.push({ shard: part.shard, event: JSON.parse(line) as HistoryEvent });
  }
  tagged.sort((a, b) => a.event.atMs - b.event.atMs || a.shard - b.shard || a.event.seq - b.event.seq);
  return {
    shards,
    stored: shardRows.map((r) => ({ shard: r.shard, devices: r.devices_to - r.devices_from, aborted: r.aborted })),
    missing,
    events: tagged.map(({ event }, i) => ({ ...event, seq: i + 1 })),
  };
}
