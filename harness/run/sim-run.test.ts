// A first end-to-end sim run (issue 8 "Sim mode"): fleet, pipeline, nemesis and checker on one virtual clock, the
// router in manual delivery, every statement during the run through one gated database, all moved by the seeded
// scheduler. It passes every invariant, spans hours of deep sleep in a few seconds, and is a function of its seed:
// the same seed gives a byte-identical NDJSON history — in this process and in another one — and a legacy profile
// fails I1 on a fixed seed every time.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import type { LiveRunOptions } from './run-options.ts';
import { RunWorldError } from './run-world.ts';
import { simRunHashed, simSmallRun } from './sim-run-fixture.ts';
import { runSim, SIM_START_MS, type SimRunResult } from './sim-run.ts';

const databaseUrl = primaryTarget().server?.url;
if (databaseUrl === undefined) throw new Error('no database server for tests');
const small: LiveRunOptions = { ...simSmallRun, databaseUrl };
const dir = mkdtempSync(join(tmpdir(), 'camfleet-sim-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One sim run with its history written to a file of its own; the file's sha256 beside the result. */
const simRun = (options: LiveRunOptions) => simRunHashed(options, dir);

const HOUR_MS = 3_600_000;

describe('a sim run (virtual clock, manual router, gated database, seeded scheduler)', () => {
  test('5 devices × 2 images, fixed, device faults: every invariant passes over hours of virtual deep sleep', async () => {
    const wallStartMs = Date.now(); // wall time: reported, not asserted on
    const { result } = await simRun(small);
    const wallMs = Date.now() - wallStartMs;
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    expect(result.verdict).toBe('pass');
    expect(result.brokerKind).toBe('sim');
    expect(result.fleet.captured).toBe(small.devices * small.imagesPerDevice);
    expect(result.fleet.acked).toBe(result.fleet.captured);
    expect(result.pipeline.imagesCompleted).toBe(result.fleet.captured);
    // Devices sleep ~12 h between wakes (the pipeline's next_wake_time), in full: the history spans hours.
    expect(result.virtualSpanMs).toBeGreaterThan(6 * HOUR_MS);
    // Everything the world did was the scheduler's choice; it never waited on wall time.
    expect(result.schedule.deliveries).toBeGreaterThanOrEqual(result.fleet.chunksSent);
    // Every image's commit and the ACK observer's look are statements at the gate.
    expect(result.schedule.statements).toBeGreaterThan(2 * result.fleet.captured);
    expect(result.schedule.steps).toBe(result.schedule.deliveries + result.schedule.statements);
    expect(result.schedule.quiescentWaits).toBe(0);
    // Virtual time moves only between the fleet's start and the check: not while the pipeline starts (its start-up
    // statements are steps, no timer), and not once the scheduler has stopped.
    const phaseAt = (phase: string) => result.history.ofType('run_phase').find((e) => e.phase === phase)?.atMs;
    expect(phaseAt('start')).toBe(SIM_START_MS);
    expect(phaseAt('end')).toBe(phaseAt('check'));
    // Ids from the rebound DEFAULTs (sim-ids.ts), not gen_random_uuid's.
    const imageIds = result.history.ofType('pipeline_committed').map((e) => e.imageId);
    expect(imageIds.length).toBe(result.fleet.captured);
    for (const id of imageIds) expect(id).toMatch(/^00000000-0000-4000-8000-[0-9a-f]{12}$/);
    console.log(
      `sim run: ${(result.virtualSpanMs / HOUR_MS).toFixed(1)} h of virtual time in ${wallMs} ms of wall time, ` +
        `${result.schedule.steps} steps (${result.schedule.deliveries} deliveries, ${result.schedule.statements} ` +
        `statements), ${result.schedule.timersFired} timers fired`,
    );
  });

  test('the same seed gives a byte-identical history, another seed a different one', async () => {
    const first = await simRun(small);
    const again = await simRun(small);
    expect(again.sha256).toBe(first.sha256);
    expect(again.result.schedule.scheduleDigest).toBe(first.result.schedule.scheduleDigest);
    const other = await simRun({ ...small, seed: small.seed + 1 });
    expect(other.sha256).not.toBe(first.sha256);
    expect(other.result.verdict).toBe('pass');
  });

  test('the same seed in two other processes gives the same history as here', async () => {
    const here = await simRun(small);
    const child = async (n: number) => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          'harness/run/sim-run-child.ts',
          String(small.seed),
          databaseUrl,
          join(dir, `child-${n}.ndjson`),
        ],
        { timeout: 120_000 },
      );
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { sha256: string; verdict: string };
    };
    const children = [await child(1), await child(2)];
    for (const c of children) {
      expect(c.verdict).toBe('pass');
      expect(c.sha256).toBe(here.sha256);
    }
  });

  test("legacy-insert on the base stage with double sends (as the catalogue's legacy-insert-double-send): fails I1 on a fixed seed, every time", async () => {
    const legacy: LiveRunOptions = {
      ...small,
      pipeline: 'legacy-insert',
      stage: 'base',
      faults: buildFaultPlan('none', { device: { doubleSendRate: 0.5 } }),
    };
    const runsOf = [await simRun(legacy), await simRun(legacy)];
    for (const { result } of runsOf) {
      expect(result.verdict).toBe('fail');
      expect(result.verdicts.find((v) => v.id === 'I1')?.verdict).toBe('fail');
      expect(result.faultsInjected['double_send'] ?? 0).toBeGreaterThan(0);
    }
    expect(runsOf[1]?.sha256).toBe(runsOf[0]?.sha256);
    const verdicts = (r: SimRunResult) => r.verdicts.map((v) => `${v.id}:${v.verdict}`);
    expect(verdicts(runsOf[1]!.result)).toEqual(verdicts(runsOf[0]!.result));
    // What the catalogue's scenario allows besides I1 (scenarios/catalogue/legacy-insert-double-send.json).
    const unexpected = runsOf[0]!.result.verdicts.filter(
      (v) => v.verdict !== 'pass' && !['I1', 'I3', 'I5', 'I6'].includes(v.id),
    );
    expect(unexpected).toEqual([]);
  });

  test('a run cut short by its (wall-time) budget still ends, tears down and says unknown', async () => {
    const { result } = await simRun({ ...small, timeBudgetMs: 1 });
    expect(result.aborted).toBe(true);
    expect(result.verdict).toBe('unknown');
  });

  test('what sim cannot do yet is refused before anything starts (exit 2)', async () => {
    const refused = async (options: LiveRunOptions) => {
      const error = await runSim(options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RunWorldError);
      expect((error as RunWorldError).exitCode).toBe(2);
      return (error as RunWorldError).message;
    };
    // Network faults, broker restarts and server faults run in sim (sim-network.test.ts, sim-server-faults.test.ts);
    // a real broker's queue overflow does not.
    expect(
      await refused({ ...small, faults: buildFaultPlan('none', { network: { slowSubscriber: true } }) }),
    ).toContain('network.slowSubscriber is live-only');
    expect(await refused({ ...small, pipeline: 'external' })).toContain('--pipeline external');
  });

  test('a scripted intervention writes through the gate: its statements are steps, and the run repeats exactly', async () => {
    const intervene = async () => {
      const counts: number[] = [];
      const result = await runSim(small, {
        onFleetStart: (world) =>
          world.plan('operator_probe', '40%', async () => {
            const { rows } = await world.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM device_images`);
            counts.push(rows[0]?.n ?? -1);
            world.history.append({ type: 'nemesis', fault: 'operator_probe', detail: `${rows[0]?.n} rows` });
          }),
      });
      return { counts, digest: result.schedule.scheduleDigest };
    };
    const first = await intervene();
    expect(first.counts).toHaveLength(1);
    expect(first.counts[0]).toBeGreaterThan(0);
    const again = await intervene();
    expect(again).toEqual(first);
  });
});
