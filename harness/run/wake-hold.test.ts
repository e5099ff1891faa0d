// The run's back-pressure predicate (wake-hold.ts), a pure function of the counts it is given.
import { expect, test } from 'vitest';
import { newFleetCounters } from '../fleet/fleet-counters.ts';
import { BACKLOG_CHUNKS_HIGH, BACKLOG_STALE_MS, pipelineBackPressure } from './wake-hold.ts';

function world() {
  const fleet = newFleetCounters();
  const w = { fleet, received: 0, behind: false, nowMs: 0 };
  const held = pipelineBackPressure({
    fleet: () => w.fleet,
    pipeline: () => ({ chunksReceived: w.received }),
    pipelineBehind: () => w.behind,
    nowMs: () => w.nowMs,
  });
  return { w, held };
}

test('held while more than BACKLOG_CHUNKS_HIGH chunks are published and unread, released as the pipeline reads', () => {
  const { w, held } = world();
  w.fleet.chunksSent = BACKLOG_CHUNKS_HIGH;
  expect(held()).toBe(false);
  w.fleet.chunksSent = BACKLOG_CHUNKS_HIGH + 1;
  expect(held()).toBe(true);
  w.nowMs = 500;
  w.received = 1;
  expect(held()).toBe(false);
});

test("held while the pipeline's own backlog is high, whatever the counts", () => {
  const { w, held } = world();
  w.behind = true;
  expect(held()).toBe(true);
});

test('a backlog the pipeline stopped reading from (deliveries lost on the way) holds nothing after BACKLOG_STALE_MS', () => {
  const { w, held } = world();
  w.fleet.chunksSent = 3 * BACKLOG_CHUNKS_HIGH;
  w.received = 10;
  expect(held()).toBe(true);
  w.nowMs = BACKLOG_STALE_MS - 1;
  expect(held()).toBe(true);
  w.nowMs = BACKLOG_STALE_MS;
  expect(held()).toBe(false);
  // Reading again: the backlog is real again.
  w.received = 11;
  w.nowMs += 1;
  expect(held()).toBe(true);
});
