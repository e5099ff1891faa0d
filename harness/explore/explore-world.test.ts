// What a case may not leave behind on its lane: the next case, whatever pipeline it runs, gives the history it gives
// alone. legacy-ttl's runs rebind image_chunks.received_at's DEFAULT to virtual time (world/sim/sim-now.ts); the
// lane's reset emptied the instant but kept the DEFAULT, so every later case's chunks were refused (NOT NULL) and
// `fixed` with fw-resend-new-bytes "failed" I5 only, slowly, after legacy-ttl in property suite 2.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { tempDir } from '../../test/temp-dir.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import type { LiveRunOptions } from '../run/run-options.ts';
import { simSmallRun } from '../run/sim-run-fixture.ts';
import { runSim } from '../run/sim-run.ts';
import { ExploreWorld } from './explore-world.ts';

const databaseUrl = primaryTarget().server?.url;
const small: LiveRunOptions = {
  ...simSmallRun,
  devices: 2,
  imagesPerDevice: 1,
  imageKbMean: 8,
  stage: 'resume',
  faults: buildFaultPlan('none', {}),
  databaseUrl,
};
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('an exploration lane', () => {
  test('after a legacy-ttl case, a fixed case runs as it runs alone', { timeout: 120_000 }, async () => {
    const dir = tempDir('camfleet-explore-world-');
    const world = await ExploreWorld.open(databaseUrl, 1);
    try {
      const ttl = await world.run({ ...small, pipeline: 'legacy-ttl', seed: 3 });
      expect(ttl.schedule.steps).toBeGreaterThan(0);
      const afterPath = join(dir, 'after-ttl.ndjson');
      const after = await world.run({ ...small, historyPath: afterPath });
      const alonePath = join(dir, 'alone.ndjson');
      const alone = await runSim({ ...small, historyPath: alonePath });
      expect(after.verdict).toBe('pass');
      expect(after.schedule.scheduleDigest).toBe(alone.schedule.scheduleDigest);
      expect(sha256(afterPath)).toBe(sha256(alonePath));
    } finally {
      await world.close();
    }
  });
});
