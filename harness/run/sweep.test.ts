// The sweep's seed list, and what the sweep may not change: seed k inside a sweep of several seeds (one server, the
// run database reset between runs) gives the schedule digest and the byte-identical history seed k gives alone.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import type { LiveRunOptions } from './run-options.ts';
import { simSmallRun } from './sim-run-fixture.ts';
import { runSim } from './sim-run.ts';
import { parseSeedList, runSweep } from './sweep.ts';

const databaseUrl = primaryTarget().server?.url;
if (databaseUrl === undefined) throw new Error('no database server for tests');
const small: LiveRunOptions = { ...simSmallRun, devices: 3, imageKbMean: 8, databaseUrl };
const dir = mkdtempSync(join(tmpdir(), 'camfleet-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('parseSeedList', () => {
  test('ranges, comma lists and both, in order, without duplicates', () => {
    expect(parseSeedList('1..5')).toEqual([1, 2, 3, 4, 5]);
    expect(parseSeedList('1,5,9')).toEqual([1, 5, 9]);
    expect(parseSeedList('7')).toEqual([7]);
    expect(parseSeedList('3..4, 9,3')).toEqual([3, 4, 9]);
  });
  test('anything else is refused with a message naming --seeds', () => {
    for (const bad of ['', '1,,2', 'a..3', '5..1', '1.5', '-1', '1..', '0..2000000'])
      expect(() => parseSeedList(bad), bad).toThrow(/--seeds/);
  });
});

describe('runSweep', () => {
  test('seed k in a sweep gives the same schedule digest and history sha256 as seed k alone', async () => {
    const seeds = [11, 12, 13];
    // Two lanes: 11 and 12 side by side in this process, then 13 on the database (and gate) one of them used.
    const reported: number[] = [];
    const swept = await runSweep(small, seeds, {
      historyPath: (seed) => join(dir, `sweep-${seed}.ndjson`),
      jobs: 2,
      onRun: (run) => reported.push(run.seed),
    });
    expect(swept.runs.map((r) => r.seed)).toEqual(seeds);
    expect(reported).toEqual(seeds);
    expect(swept.failed).toBe(0);
    // The last seed ran on a database a run had used before it; the first on a fresh one, beside another run.
    for (const seed of [13, 11]) {
      const alonePath = join(dir, `alone-${seed}.ndjson`);
      const alone = await runSim({ ...small, seed, historyPath: alonePath });
      const inSweep = swept.runs.find((r) => r.seed === seed);
      expect(inSweep?.scheduleDigest).toBe(alone.schedule.scheduleDigest);
      expect(sha256(join(dir, `sweep-${seed}.ndjson`))).toBe(sha256(alonePath));
    }
    expect(new Set(swept.runs.map((r) => r.scheduleDigest)).size).toBe(seeds.length);
  });

  test('a failing profile: every run judged, the failing invariants and first offending item named', async () => {
    const legacy: LiveRunOptions = {
      ...small,
      pipeline: 'legacy-insert',
      stage: 'base',
      faults: buildFaultPlan('none', { device: { doubleSendRate: 0.5 } }),
    };
    const swept = await runSweep(legacy, [1, 2]);
    expect(swept.runs).toHaveLength(2);
    expect(swept.failed).toBe(2);
    for (const run of swept.runs) {
      expect(run.verdict).toBe('fail');
      expect(run.invariants).toContain('I1');
      expect(run.detail).toMatch(/^I1 unique \(.+\)$/);
    }
    // Its replay (the same options, that seed, alone) fails the same way on the same schedule.
    const alone = await runSim({ ...legacy, seed: 2 });
    expect(alone.verdicts.filter((v) => v.verdict !== 'pass').map((v) => v.id)).toEqual(swept.runs[1]?.invariants);
    expect(alone.schedule.scheduleDigest).toBe(swept.runs[1]?.scheduleDigest);
  });

  test('runs with a mid-run migration each get a fresh database: seed k in the sweep is seed k alone', async () => {
    const migrating: LiveRunOptions = {
      ...small,
      pipeline: 'legacy-insert',
      stage: 'base',
      faults: buildFaultPlan('none', { device: { doubleSendRate: 0.3 }, migration: { at: '40%' } }),
    };
    const swept = await runSweep(migrating, [21, 22], { historyPath: (seed) => join(dir, `migrating-${seed}.ndjson`) });
    expect(swept.runs.map((r) => r.verdict)).toEqual(['pass', 'pass']);
    const alonePath = join(dir, 'migrating-alone-22.ndjson');
    await runSim({ ...migrating, seed: 22, historyPath: alonePath });
    expect(sha256(join(dir, 'migrating-22.ndjson'))).toBe(sha256(alonePath));
  });
});
