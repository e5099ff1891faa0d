// I1 unique (ARCHITECTURE.md §3): no two device_images rows share (device_id, image_name). On the base stage
// nothing but the pipeline prevents them, so this is how a legacy run shows the original bug.
import { MAC_SQL, queryRows, requireTables, type Db } from './db.ts';
import type { RunFacts } from './run-facts.ts';
import { evaluate, judge, type InvariantVerdict } from './verdict.ts';

export interface DuplicateGroup {
  readonly mac: string | null;
  readonly deviceId: string;
  readonly imageName: string;
  readonly count: number;
  readonly statuses: readonly string[];
}

export function checkUnique(db: Db, _facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I1', async () => {
    await requireTables(db, ['device_images', 'devices']);
    const groups = await queryRows<DuplicateGroup>(
      db,
      `SELECT ${MAC_SQL('d.device_mac')} AS mac, di.device_id::text AS "deviceId", di.image_name AS "imageName",
              count(*)::int AS count,
              array_agg(coalesce(di.status, 'null') ORDER BY di.status) AS statuses
       FROM device_images di
       LEFT JOIN devices d ON d.device_id = di.device_id
       GROUP BY d.device_mac, di.device_id, di.image_name
       HAVING count(*) > 1
       ORDER BY count(*) DESC, mac, di.image_name`,
    );
    const [{ rows } = { rows: 0 }] = await queryRows<{ rows: number }>(
      db,
      `SELECT count(*)::int AS rows FROM device_images`,
    );
    const extra = groups.reduce((n, g) => n + g.count - 1, 0);
    return judge('I1', groups, {
      pass: `0 duplicate (device_id, image_name) groups among ${rows} image rows`,
      fail: `${groups.length} duplicate (device_id, image_name) groups (${extra} extra rows) among ${rows} image rows`,
    });
  });
}
