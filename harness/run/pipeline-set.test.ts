// The run's pipeline statistics add up over every instance it ever started, read when asked: a crashed instance's
// commit that lands after the crash (it was already on its way to Postgres) still counts.
import { expect, test } from 'vitest';
import type { Pipeline, PipelineStats } from '../pipeline/index.ts';
import { emptyStats } from '../pipeline/stats.ts';
import { drainMicrotasks } from '../world/sim/scheduler.ts';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { PipelineSet, RESTART_ATTEMPTS_MAX, RESTART_RETRY_MS } from './pipeline-set.ts';

/** A stand-in instance whose counts (and whether it is behind) the test moves by hand (PipelineSet only reads them
 *  and calls crash/stop). */
function instance(): Pipeline & { counts: PipelineStats; lagging: boolean } {
  const counts = emptyStats();
  const self = {
    counts,
    lagging: false,
    stats: () => ({ ...counts, rejections: { ...counts.rejections } }),
    behind: () => self.lagging,
    idle: async () => {},
    stop: async () => {},
    crash: async () => {},
  };
  return self;
}

/** A set of `count` stand-in instances a start, each one it starts kept in `started`. */
function recordingSet(count: number) {
  const started: ReturnType<typeof instance>[] = [];
  const set = new PipelineSet(
    () => {
      const p = instance();
      started.push(p);
      return Promise.resolve(p);
    },
    'fixed',
    count,
  );
  return { set, started };
}

test('a crashed instance keeps counting: an image it commits after the crash is in the run’s total', async () => {
  const { set, started } = recordingSet(1);
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

test('the set is behind while one of its instances is (the fleet holds wakes), not after that one crashed', async () => {
  const { set, started } = recordingSet(2);
  await set.start();
  expect(set.behind()).toBe(false);
  started[1]!.lagging = true;
  expect(set.behind()).toBe(true);
  await set.crashAndRestart(); // the lagging instance is gone; its successors keep up
  expect(set.behind()).toBe(false);
  await set.stop();
});

test('a restart with a down time starts the new instance only once that much of the clock has passed', async () => {
  const clock = new VirtualClock(0);
  const started: number[] = [];
  const set = new PipelineSet(
    () => {
      started.push(clock.nowMs());
      return Promise.resolve(instance());
    },
    'fixed',
    1,
    { downMs: 400, clock },
  );
  await set.start();
  const restarted = set.crashAndRestart();
  await drainMicrotasks();
  expect(started).toEqual([0]);
  clock.advanceTo(399);
  await drainMicrotasks();
  expect(started).toEqual([0]);
  clock.advanceTo(400);
  await restarted;
  expect(started).toEqual([0, 400]);
  await set.stop();
});

test('a restart whose start fails (the broker is down too) is tried again until one starts, then gives up', async () => {
  const clock = new VirtualClock(0);
  const attempts: number[] = [];
  let failuresLeft = 2;
  const set = new PipelineSet(
    () => {
      attempts.push(clock.nowMs());
      if (attempts.length > 1 && failuresLeft-- > 0) return Promise.reject(new Error('the broker is down'));
      return Promise.resolve(instance());
    },
    'fixed',
    1,
    { downMs: 400, clock },
  );
  await set.start();
  const restarted = set.crashAndRestart();
  for (const at of [400, 400 + RESTART_RETRY_MS, 400 + 2 * RESTART_RETRY_MS]) {
    await drainMicrotasks();
    clock.advanceTo(at);
  }
  await restarted;
  expect(attempts).toEqual([0, 400, 400 + RESTART_RETRY_MS, 400 + 2 * RESTART_RETRY_MS]);

  failuresLeft = Infinity; // never starts again: the restart gives up after RESTART_ATTEMPTS_MAX tries, with the error
  const never = set.crashAndRestart();
  const outcome = never.then(
    () => 'started',
    (error: unknown) => (error as Error).message,
  );
  for (let i = 0; i < RESTART_ATTEMPTS_MAX; i++) {
    await drainMicrotasks();
    clock.advanceTo(clock.nowMs() + RESTART_RETRY_MS);
  }
  expect(await outcome).toBe('the broker is down');
  expect(attempts).toHaveLength(4 + RESTART_ATTEMPTS_MAX);
});
