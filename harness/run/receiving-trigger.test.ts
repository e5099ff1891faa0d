// A live run's `N-receiving` trigger (a pipeline restart once N images are receiving with stored progress) fires
// as the pipeline commits the chunk batch that makes it so, not when a database sample happens to see it: a small
// fleet's images are receiving with progress only between two commits, which a loaded machine's 20 ms sample could
// miss (E1 unknown: "the fleet finished first"; CI, server-restart-mid-transfer).
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import { runLive } from './live-run.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';

const options: LiveRunOptions = {
  ...liveRunDefaults,
  devices: 10,
  imagesPerDevice: 3,
  imageKbMean: 30,
  seed: 4,
  brokerUrl: undefined,
  databaseUrl: primaryTarget().server?.kind === 'external' ? primaryTarget().server?.url : undefined,
  timeBudgetMs: 60_000,
  faults: buildFaultPlan('none', { server: { pipelineRestartAt: ['3-receiving'] } }),
};

describe('a receiving trigger in a live run', () => {
  test('fires at the commit that leaves 3 images receiving with progress; the restart loses nothing', async () => {
    const result = await runLive(options);
    const fired = result.history.ofType('fault_fired');
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ fault: 'pipeline_restart', trigger: '3-receiving' });
    const receiving = Number(/(\d+) rows receiving/.exec(fired[0]?.detail ?? '')?.[1]);
    expect(receiving).toBeGreaterThanOrEqual(3);
    expect(result.history.ofType('fault_missed')).toEqual([]);
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
  });
});
