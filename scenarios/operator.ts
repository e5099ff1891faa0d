// The operator's hand in a run (spec.ts, `ScenarioOperator`): the seed guide's fourth cause of duplicates, "manual
// data fixes", done the way its restore statement does it — INSERT … SELECT a copy of an image row, outside the
// pipeline. With the UNIQUE constraint (stage resume) the copy is refused; on the base stage it is a duplicate.
import type { History } from '../harness/history/history.ts';
import type { Sql } from '../harness/world/sql.ts';
import type { ScenarioOperator } from './spec.ts';

/** What the run hands a scenario once the fleet starts (`RunHooks.onFleetStart`). */
export interface FleetStartWorld {
  /** The world's database: the run's admin pool live, its gate in sim. */
  readonly db: Sql;
  readonly history: History;
  /** Plans an action for when a trigger ("40%") is due, as the run's own faults are (nemesis/fault-scheduler.ts). */
  plan(fault: string, trigger: string, work: () => Promise<void>): void;
}

const reinsertSql = `INSERT INTO device_images (device_id, company_id, program_id, site_id, image_name, image_url,
    image_size, captured_at, received_at, total_chunks, received_chunks, status, error_code, metadata)
  SELECT device_id, company_id, program_id, site_id, image_name, image_url,
    image_size, captured_at, received_at, total_chunks, received_chunks, status, error_code, metadata
  FROM device_images WHERE image_id = $1`;

async function reinsertCompleteRows(world: FleetStartWorld): Promise<void> {
  const { db } = world;
  let inserted = 0;
  let refused = 0;
  try {
    const { rows } = await db.query<{ image_id: string }>(
      `SELECT image_id FROM device_images WHERE status = 'complete' ORDER BY image_id`,
    );
    for (const row of rows) {
      try {
        await db.query(reinsertSql, [row.image_id]);
        inserted++;
      } catch {
        refused++; // 23505 under the UNIQUE constraint: the manual fix is kept out
      }
    }
    world.history.append({
      type: 'nemesis',
      fault: 'operator_reinsert',
      detail: `${inserted} complete rows re-inserted, ${refused} refused`,
    });
  } catch (error) {
    world.history.append({
      type: 'nemesis',
      fault: 'operator_reinsert',
      detail: `failed: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

/** Plans the operator's actions on the run's fault scheduler (they fire by progress, like faults). */
export function planOperator(operator: ScenarioOperator, world: FleetStartWorld): void {
  for (const trigger of operator.reinsertCompleteRowsAt)
    world.plan('operator_reinsert', trigger, () => reinsertCompleteRows(world));
}
