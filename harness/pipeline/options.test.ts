// Options of the pipeline (profiles, instance tag, legacy knobs) and the in-memory chunk store of
// legacy-memory-chunks: pure, no sockets.
import { describe, expect, test } from 'vitest';
import { MemoryChunkStore } from './memory-chunks.ts';
import { consumerClientIds } from './mqtt-link.ts';
import { PIPELINE_DEFAULTS, PipelineUsageError, pipelineProfiles, resolveOptions, sharedFilters } from './options.ts';

const base = { brokerUrl: 'mqtt://127.0.0.1:1', databaseUrl: 'postgres://x/y' };

describe('resolveOptions', () => {
  test('every profile resolves; an unknown one is a usage error naming the known ones', () => {
    for (const profile of pipelineProfiles) expect(resolveOptions({ ...base, profile }).profile).toBe(profile);
    expect(resolveOptions(base).profile).toBe('fixed');
    // @ts-expect-error: not a profile
    expect(() => resolveOptions({ ...base, profile: 'legacy' })).toThrow(/known: fixed, legacy-insert/);
  });

  test('instanceTag names the client id and the log lines', () => {
    const lines: string[] = [];
    const o = resolveOptions({ ...base, instanceTag: 'b', log: (l) => lines.push(l) });
    expect(o.clientId).toMatch(/^camfleet-pipeline-b-[0-9a-f]{8}$/);
    o.log('pipeline: hello');
    o.log('other');
    expect(lines).toEqual(['pipeline[b]: hello', 'other']);
    expect(resolveOptions(base).clientId).toMatch(/^camfleet-pipeline-[0-9a-f]{8}$/);
    expect(() => resolveOptions({ ...base, instanceTag: 'a b' })).toThrow(PipelineUsageError);
  });

  test('chunkTtlMs defaults to 30 minutes and must be positive; writerRaceWindowMs defaults to 50', () => {
    expect(resolveOptions(base).chunkTtlMs).toBe(1_800_000);
    expect(PIPELINE_DEFAULTS.chunkTtlMs).toBe(1_800_000);
    expect(resolveOptions({ ...base, chunkTtlMs: 250 }).chunkTtlMs).toBe(250);
    expect(() => resolveOptions({ ...base, chunkTtlMs: 0 })).toThrow(PipelineUsageError);
    expect(resolveOptions(base).writerRaceWindowMs).toBe(50);
  });
});

describe('MemoryChunkStore', () => {
  test('counts distinct chunks, reports held ids, writes counts in batches, forgets on release and discard', async () => {
    const writes: [string[], number[]][] = [];
    const store = new MemoryChunkStore({
      writeCounts: (ids, counts) => {
        writes.push([[...ids], [...counts]]);
        return Promise.resolve();
      },
      flushIntervalMs: 5,
      log: () => {},
    });
    expect(store.add('i1', 3, 0, new Uint8Array([1]))).toBe(1);
    expect(store.add('i1', 3, 0, new Uint8Array([1]))).toBe(1);
    expect(store.add('i1', 3, 2, new Uint8Array([3]))).toBe(2);
    expect(store.add('i2', 2, 1, new Uint8Array([4]))).toBe(1);
    expect(store.storedChunkIds(['i1', 'i2', 'i3'])).toEqual(
      new Map([
        ['i1', [0, 2]],
        ['i2', [1]],
      ]),
    );
    await store.drain();
    expect(writes).toEqual([
      [
        ['i1', 'i2'],
        [2, 1],
      ],
    ]);
    store.release('i1');
    expect(store.count('i1')).toBe(0);
    store.discard();
    expect(store.count('i2')).toBe(0);
    expect(store.busy).toBe(false);
  });
});

describe('shared subscriptions', () => {
  test('a group prefixes every filter with $share/<group>/; without one they stay as given', () => {
    expect(sharedFilters(['ESP32CAM/+/data', 'device/+/status'], 'g-1')).toEqual([
      '$share/g-1/ESP32CAM/+/data',
      '$share/g-1/device/+/status',
    ]);
    expect(sharedFilters(['ESP32CAM/+/data'], undefined)).toEqual(['ESP32CAM/+/data']);
  });

  test('consumers name their connections <clientId>-c1…; one keeps the client id', () => {
    expect(consumerClientIds('p', 3)).toEqual(['p-c1', 'p-c2', 'p-c3']);
    expect(consumerClientIds('p', 1)).toEqual(['p']);
    expect(consumerClientIds('p', undefined)).toEqual(['p']);
  });

  test('a group waits for routes, no group does not; consumers need a group; a group is one topic level', () => {
    expect(resolveOptions(base).routeWaitMs).toBe(0);
    expect(resolveOptions({ ...base, sharedGroup: 'g' }).routeWaitMs).toBe(PIPELINE_DEFAULTS.routeWaitMs);
    expect(resolveOptions({ ...base, sharedGroup: 'g', consumers: 4 }).consumers).toBe(4);
    expect(() => resolveOptions({ ...base, consumers: 2 })).toThrow(/needs a sharedGroup/);
    expect(() => resolveOptions({ ...base, sharedGroup: 'g', consumers: 0 })).toThrow(PipelineUsageError);
    expect(() => resolveOptions({ ...base, sharedGroup: 'a/b' })).toThrow(/sharedGroup/);
    expect(() => resolveOptions({ ...base, sharedGroup: '#' })).toThrow(/sharedGroup/);
  });
});
