// Why the sim run rebinds DEFAULTs rather than setting search_path: a DEFAULT gen_random_uuid() is bound at
// CREATE TABLE time to pg_catalog's function, so a shadowing function on the search_path changes explicit calls
// only. After installDeterministicIds, defaults count from the sequence: two fresh databases give the same ids.
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { migrateUp } from '../../../schema/runner.ts';
import { primaryTarget, scratchDatabase } from '../../../test/databases.ts';
import type { ScratchDatabase } from '../../db/scratch-database.ts';
import { installDeterministicIds } from './sim-ids.ts';

const opened: { scratch: ScratchDatabase; client: pg.Client }[] = [];

async function freshDatabase(): Promise<pg.Client> {
  const server = primaryTarget().server;
  if (server === null) throw new Error('no database server for tests');
  const scratch = await scratchDatabase(server, 'sim_ids');
  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  opened.push({ scratch, client });
  await migrateUp(client, 'base');
  return client;
}

const insertDevice = async (client: pg.Client, mac: string) =>
  (
    await client.query<{ device_id: string }>(
      `INSERT INTO devices (device_mac, device_code) VALUES ($1, 'DEVICE-' || $1) RETURNING device_id`,
      [mac],
    )
  ).rows[0]?.device_id;

afterAll(async () => {
  for (const { scratch, client } of opened) {
    await client.end().catch(() => {});
    await scratch.drop();
  }
});

describe('deterministic ids in a sim run database', () => {
  test('search_path alone does not reach a column DEFAULT; rebinding does, the same in two databases', async () => {
    const a = await freshDatabase();
    await a.query(`CREATE SCHEMA camfleet_sim`);
    await a.query(
      `CREATE FUNCTION camfleet_sim.gen_random_uuid() RETURNS uuid LANGUAGE sql AS $$ SELECT '00000000-0000-0000-0000-000000000000'::uuid $$`,
    );
    await a.query(`SET search_path = camfleet_sim, pg_catalog, public`);
    expect((await a.query<{ u: string }>('SELECT gen_random_uuid() AS u')).rows[0]?.u).toBe(
      '00000000-0000-0000-0000-000000000000',
    );
    expect(await insertDevice(a, 'AAAAAAAAAAA1')).not.toBe('00000000-0000-0000-0000-000000000000');
    await a.query(`RESET search_path`);
    await a.query(`DROP SCHEMA camfleet_sim CASCADE`);

    const ids: (string | undefined)[][] = [];
    for (const client of [a, await freshDatabase()]) {
      const rebound = await installDeterministicIds(client);
      expect(rebound).toContain('device_images.image_id');
      expect(rebound).toContain('devices.device_id');
      ids.push([await insertDevice(client, 'B8F862F9C1C4'), await insertDevice(client, 'B8F862F9C1C5')]);
    }
    expect(ids[0]).toEqual(['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']);
    expect(ids[1]).toEqual(ids[0]);
  });

  test('a second install on the same database changes nothing (a sweep reuses its database)', async () => {
    const client = await freshDatabase();
    const first = await installDeterministicIds(client);
    expect(first).toContain('devices.device_id');
    expect(await installDeterministicIds(client)).toEqual([]);
    // A table created later with a random default (a migration mid-run) is rebound by the next install.
    await client.query(`CREATE TABLE later (id uuid PRIMARY KEY DEFAULT gen_random_uuid())`);
    expect(await installDeterministicIds(client)).toEqual(['later.id']);
    expect(await insertDevice(client, 'B8F862F9C1C4')).toBe('00000000-0000-4000-8000-000000000001');
  });
});
