// A sweep's run databases (sweep-database.ts): reused per stage and reset to what a fresh one is, or for a run that
// moves the schema on (a mid-run migration) a fresh one of its own.
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { SweepDatabases } from './sweep-database.ts';

const serverUrl = primaryTarget().server?.url;
if (serverUrl === undefined) throw new Error('no database server for tests');
const databases = new SweepDatabases(serverUrl);
afterAll(() => databases.close());

const exists = async (name: string): Promise<boolean> => {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await admin.end();
  }
};

describe('SweepDatabases', () => {
  test('the same database again, emptied, with its sequences restarted', async () => {
    const first = await databases.open({ databaseUrl: undefined, stage: 'base', purpose: 'test' });
    await first.pool.query(`INSERT INTO devices (device_mac, device_code) VALUES ('B8F862F9C1C4', 'DEVICE-1')`);
    const again = await databases.open({ databaseUrl: undefined, stage: 'base', purpose: 'test' });
    expect(again.scratch.name).toBe(first.scratch.name);
    expect((await again.pool.query('SELECT count(*)::int AS n FROM devices')).rows[0]).toEqual({ n: 0 });
  });

  test('openFresh() gives a database of its own each time, dropped at its close()', async () => {
    const reused = await databases.open({ databaseUrl: undefined, stage: 'resume', purpose: 'test' });
    const fresh = await databases.openFresh({ databaseUrl: undefined, stage: 'resume', purpose: 'test' });
    expect(fresh.scratch.name).not.toBe(reused.scratch.name);
    await fresh.close();
    expect(await exists(fresh.scratch.name)).toBe(false);
    expect(await exists(reused.scratch.name)).toBe(true);
  });
});
