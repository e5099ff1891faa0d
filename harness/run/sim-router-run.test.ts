// The same run over the other world (ARCHITECTURE.md §8): runLive with RunSeams.world = the sim world's in-memory
// router (auto delivery, the real clock) instead of aedes over TCP, on real Postgres. The fleet, the pipeline, the
// history and the checker are the ones live-run.test.ts runs on aedes: every invariant passes for `fixed`, and
// `legacy-insert` under double sends fails I1 here as it does live.
import { describe, expect, test } from 'vitest';
import { externalTarget, primaryTarget } from '../../test/databases.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import { realClock } from '../world/live/real-clock.ts';
import { Router } from '../world/sim/router.ts';
import { simWorld } from '../world/sim/sim-world.ts';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { runLive } from './live-run.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';
import { RunWorldError } from './run-world.ts';

const small: LiveRunOptions = {
  ...liveRunDefaults,
  devices: 10,
  imagesPerDevice: 2,
  imageKbMean: 20,
  seed: 20260114,
  brokerUrl: undefined,
  databaseUrl: primaryTarget().server?.kind === 'external' ? primaryTarget().server?.url : undefined,
  timeBudgetMs: 60_000,
};

/** Auto delivery; the router's own timers (pressure poll, a link's reconnect delay) on the run's real clock. */
function routerWorld() {
  const router = new Router({ timers: realClock });
  return { router, world: simWorld(router, realClock) };
}

/** The fixed pipeline over a fresh router: every invariant passes, and everything went through that router. */
async function expectFixedPasses(options: LiveRunOptions): Promise<void> {
  const { router, world } = routerWorld();
  const result = await runLive(options, {}, { world });

  const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
  expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
  expect(result.verdict).toBe('pass');
  expect(result.brokerKind).toBe('sim');
  expect(result.fleet.captured).toBe(options.devices * options.imagesPerDevice);
  expect(result.fleet.acked).toBe(result.fleet.captured);
  expect(result.pipeline.imagesCompleted).toBe(result.fleet.captured);
  expect(result.pipeline.rejected).toBe(0);
  // Everything went through the router: at least every chunk the devices sent was published there and handed on,
  // and no aedes saw a client (its broker_client events are absent).
  const stats = router.stats();
  expect(stats.published).toBeGreaterThanOrEqual(result.fleet.chunksSent);
  expect(stats.delivered).toBeGreaterThanOrEqual(result.fleet.chunksSent);
  expect(result.history.events.some((e) => e.type === 'broker_client')).toBe(false);
  // The devices' clean sessions ended with the run (client id = MAC).
  const macs = new Set(result.history.events.flatMap((e) => (e.type === 'device_captured' ? [e.capture.mac] : [])));
  expect(macs.size).toBe(options.devices);
  for (const mac of macs) expect(router.session(mac)).toBeUndefined();
}

const database = externalTarget();
const onExternal = database.server ? test : test.skip;

describe('a run over the in-memory router (sim world, real clock)', () => {
  test(`fixed, 10 devices × 2 images on ${primaryTarget().label}: every invariant passes`, async () => {
    await expectFixedPasses(small);
  });

  onExternal(`the same on ${database.label}`, async () => {
    await expectFixedPasses({ ...small, databaseUrl: database.server?.url });
  });

  test('legacy-insert on the base stage with every metadata sent twice fails I1 over the router too', async () => {
    const { world } = routerWorld();
    const result = await runLive(
      {
        ...small,
        devices: 6,
        imagesPerDevice: 1,
        imageKbMean: 8,
        pipeline: 'legacy-insert',
        stage: 'base',
        faults: buildFaultPlan('none', { device: { doubleSendRate: 1 } }),
      },
      {},
      { world },
    );
    expect(result.verdict).toBe('fail');
    expect(result.verdicts.find((v) => v.id === 'I1')?.verdict).toBe('fail');
    expect(result.faultsInjected['double_send'] ?? 0).toBeGreaterThan(0);
  });

  test('a run that needs what a given world lacks is refused before anything starts (exit 2)', async () => {
    const { world } = routerWorld();
    const refused = async (options: LiveRunOptions, seams = {}) => {
      const error = await runLive(options, {}, { world, ...seams }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RunWorldError);
      return error as RunWorldError;
    };
    const external = await refused({ ...small, pipeline: 'external' });
    expect(external.message).toContain('--pipeline external');
    expect(external.exitCode).toBe(2);
    expect((await refused({ ...small, brokerUrl: 'mqtt://127.0.0.1:1' })).message).toContain('broker URL');
    // Network faults act on the world's router (sim-network.test.ts); a world without one has nothing for them.
    const { router: _router, ...routerless } = world;
    const lossy = buildFaultPlan('none', { network: { dropRate: 0.1 } });
    expect((await refused({ ...small, faults: lossy }, { world: routerless })).message).toContain(
      'network.dropRate=0.1',
    );
    const slow = buildFaultPlan('none', { network: { slowSubscriber: true } });
    expect((await refused({ ...small, faults: slow })).message).toContain('network.slowSubscriber is live-only');
    expect((await refused(small, { clock: new VirtualClock() })).message).toContain('one clock');
  });
});
