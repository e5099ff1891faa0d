// The run's pipeline statistics add up over every instance it ever started, read when asked: a crashed instance's
// commit that lands after the crash (it was already on its way to Postgres) still counts.
import { expect, test } from 'vitest';
import type { Pipeline, PipelineStats } from '../pipeline/index.ts';
import { emptyStats } from '../pipeline/stats.ts';
import { PipelineSet } from './pipeline-set.ts';

/** A stand-in instance whose counts the test moves by hand (PipelineSet only reads stats and calls crash/stop). */
function instance(): Pipeline & { counts: PipelineStats } {
  const counts = emptyStats();
  return {
    counts,
    stats: () => ({ ...counts, rejections: { ...counts.rejections } }),
    idle: async () => {},
    stop: async () => {},
    crash: async () => {},
  };
}

test('a crashed instance keeps counting: an image it commits after the crash is in the run’s total', async () => {
  const started: ReturnType<typeof instance>[] = [];
  const set = new PipelineSet(
    () => {
      const p = instance();
      started.push(p);
      return Promise.resolve(p);
    },
    'fixed',
    1,
  );
  await set.start();
  started[0]!.counts.imagesCompleted = 2;
  await set.crashAndRestart();
  started[0]!.counts.imagesCompleted = 3; // its last completion commits after the crash
  started[1]!.counts.imagesCompleted = 4;
  expect(set.stats().imagesCompleted).toBe(7);
  await set.stop();
  started[1]!.counts.imagesCompleted = 5;
  expect(set.stats().imagesCompleted).toBe(8);
});
