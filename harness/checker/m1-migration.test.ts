import { describe, expect, test } from 'vitest';
import { applyStep } from '../../schema/runner.ts';
import { schemaSteps } from '../../schema/steps.ts';
import { checkInvariants } from './check.ts';
import { checkMigration, snapshotBeforeCleanup } from './m1-migration.ts';
import { runFacts } from './run-facts.ts';
import { resetDatabase, useScratchClient } from './test-world.ts';

const device = '11111111-1111-4111-8111-111111111111';
const cleanup = schemaSteps.find((s) => s.stage === 'cleanup')!;

describe('M1 migration', () => {
  const client = useScratchClient('checker_m1');

  async function duplicates(): Promise<{ best: string; worse: string }> {
    await resetDatabase(client(), 'base');
    await client().query(`INSERT INTO devices (device_id, device_mac) VALUES ($1, 'B8F862F9C1C4')`, [device]);
    const insert = async (status: string) =>
      (
        await client().query<{ image_id: string }>(
          `INSERT INTO device_images (device_id, image_name, captured_at, status) VALUES ($1, 'image_1.jpg', now(), $2) RETURNING image_id`,
          [device, status],
        )
      ).rows[0]!.image_id;
    return { best: await insert('complete'), worse: await insert('receiving') };
  }

  test('passes when the cleanup kept the best row and backed up exactly the other', async () => {
    await duplicates();
    await snapshotBeforeCleanup(client());
    await applyStep(client(), cleanup);
    const v = await checkMigration(client(), runFacts([]));
    expect(v).toMatchObject({ id: 'M1', verdict: 'pass' });
    expect(v.summary).toContain('exactly the 1 deleted rows');
  });

  test('fails when the wrong row was kept, or a deleted row is missing from the backup', async () => {
    const { best, worse } = await duplicates();
    await snapshotBeforeCleanup(client());
    // A broken cleanup: keeps the receiving copy, deletes the complete one without backing it up.
    await applyStep(client(), cleanup); // creates the backup table (and does it right)…
    await client().query(`DELETE FROM device_images_duplicates_backup`);
    await client().query(
      `INSERT INTO device_images (image_id, device_id, image_name, captured_at, status) VALUES ($1, $2, 'image_1.jpg', now(), 'receiving')`,
      [worse, device],
    );
    await client().query(`DELETE FROM device_images WHERE image_id = $1`, [best]);
    const v = await checkMigration(client(), runFacts([]));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ problem: 'best row missing', imageId: best }),
        expect.objectContaining({ problem: 'inferior duplicate not in backup', imageId: worse }),
      ]),
    );
  });

  test('is reported by checkInvariants only for runs that took the snapshot', async () => {
    await duplicates();
    expect((await checkInvariants(client(), [])).map((v) => v.id)).not.toContain('M1');
    await snapshotBeforeCleanup(client());
    await applyStep(client(), cleanup);
    expect((await checkInvariants(client(), [])).map((v) => v.id)).toContain('M1');
  });
});
