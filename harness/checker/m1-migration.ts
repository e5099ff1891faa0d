// M1, the migration invariant (ARCHITECTURE.md §3): when the cleanup ran during a run, it kept exactly the best row
// of each duplicate group (by an independent TypeScript statement of the ranking) and the backup holds exactly the
// rows it deleted. Observed from a snapshot of device_images the harness takes just before the cleanup.
import { keptImageIds, type RankableImage } from './cleanup-ranking.ts';
import { existingTables, queryRows, type Db } from './db.ts';
import type { RunFacts } from './run-facts.ts';
import { evaluate, judge, type InvariantVerdict } from './verdict.ts';

export const MIGRATION_SNAPSHOT_TABLE = 'camfleet_migration_snapshot';

/** Called by the run right before it applies the cleanup step: on the admin pool's client (live) or through the sim
 *  world's gate (anything with a plain query). */
export async function snapshotBeforeCleanup(db: { query(text: string): Promise<unknown> }): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${MIGRATION_SNAPSHOT_TABLE}`);
  await db.query(
    `CREATE TABLE ${MIGRATION_SNAPSHOT_TABLE} AS
     SELECT image_id, device_id, image_name, status, updated_at, received_chunks, captured_at FROM device_images`,
  );
}

export async function migrationSnapshotTaken(db: Db): Promise<boolean> {
  return (await existingTables(db, [MIGRATION_SNAPSHOT_TABLE])).has(MIGRATION_SNAPSHOT_TABLE);
}

export function checkMigration(db: Db, _facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('M1', async () => {
    const snapshot = await queryRows<RankableImage>(
      db,
      `SELECT image_id::text, device_id::text, image_name, status, updated_at, received_chunks, captured_at
       FROM ${MIGRATION_SNAPSHOT_TABLE}`,
    );
    const backup = await queryRows<{ image_id: string }>(
      db,
      `SELECT image_id::text FROM device_images_duplicates_backup`,
    );
    const present = new Set(
      (await queryRows<{ image_id: string }>(db, `SELECT image_id::text FROM device_images`)).map((r) => r.image_id),
    );
    const kept = new Set(keptImageIds(snapshot).values());
    const backedUp = new Set(backup.map((r) => r.image_id));
    const offending: { problem: string; imageId: string; imageName?: string }[] = [];
    for (const row of snapshot) {
      if (kept.has(row.image_id)) {
        if (backedUp.has(row.image_id))
          offending.push({ problem: 'best row deleted', imageId: row.image_id, imageName: row.image_name });
        else if (!present.has(row.image_id))
          offending.push({ problem: 'best row missing', imageId: row.image_id, imageName: row.image_name });
      } else if (!backedUp.has(row.image_id)) {
        offending.push({
          problem: 'inferior duplicate not in backup',
          imageId: row.image_id,
          imageName: row.image_name,
        });
      } else if (present.has(row.image_id)) {
        offending.push({ problem: 'backed up but not deleted', imageId: row.image_id, imageName: row.image_name });
      }
    }
    const snapshotIds = new Set(snapshot.map((r) => r.image_id));
    for (const id of backedUp)
      if (!snapshotIds.has(id)) offending.push({ problem: 'backup row that was not in the table', imageId: id });
    const removed = snapshot.length - kept.size;
    return judge('M1', offending, {
      pass: `cleanup kept the best of ${kept.size} (device, name) groups; the backup holds exactly the ${removed} deleted rows`,
      fail: `${offending.length} rows where the cleanup or its backup went wrong`,
    });
  });
}
