// A sim run (ARCHITECTURE.md §2, §8; issue 8 "Sim mode"): the same run as a live one — runLive's phases, fleet,
// pipeline, nemesis, history and checker — but the whole world in this process and moved by the seeded scheduler:
// one VirtualClock for everything, the in-memory router in manual delivery, and every statement an actor issues
// during the run through one gated database (sim-drive.ts) on the run's real scratch Postgres. Deep sleep is not
// compressed (timeScale 1): hours of virtual time cost no wall time. The same seed gives the same schedule and so
// the same history, byte for byte.
import { Router } from '../world/sim/router.ts';
import { simWorld } from '../world/sim/sim-world.ts';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { runLive, type LiveRunResult, type RunHooks, type RunSeams } from './live-run.ts';
import type { LiveRunOptions } from './run-options.ts';
import { SimDrive, type SimDriveStats } from './sim-drive.ts';
import type { GateSource } from '../world/sim/gate-source.ts';

/** Where the virtual clock starts: the fleet's own RTC start (live-run.ts), so database timestamps the pipeline
 *  writes from its clock read like a live run's. */
export const SIM_START_MS = Date.UTC(2026, 0, 14, 6, 0, 0);

/** What an ESP32's MQTT publishes over Wi-Fi manage, in bytes per virtual ms (200 KB/s: a 1 KB chunk, base64 in
 *  JSON, takes about 7 ms, a 70 KB image about half a second). A live device's publishes take real time on their
 *  socket; in sim this is what spreads a transfer over time (world/sim/device-transport.ts). A slower radio is as
 *  faithful but costs a sweep speed: the pipeline then flushes fewer chunks per statement (50 KB/s: +30% statements,
 *  one chunk per flush). */
export const SIM_DEVICE_UPLINK_BYTES_PER_MS = 200;

export interface SimRunResult extends LiveRunResult {
  readonly schedule: SimDriveStats;
  /** Virtual ms from the run's first history event to its last. */
  readonly virtualSpanMs: number;
}

/** What a sweep shares between its runs: the run database (sweep-database.ts) and the gate (gate-source.ts). */
export interface SimRunSeams extends Pick<RunSeams, 'openDatabase'> {
  readonly gates?: GateSource;
}

export async function runSim(
  options: LiveRunOptions,
  hooks: RunHooks = {},
  seams: SimRunSeams = {},
): Promise<SimRunResult> {
  // Network faults and broker restarts act on the router (run-world.ts, fault-wiring.ts). Server faults, the mid-run
  // migration and a scenario's scripted interventions run inside the scheduler's world (fault-wiring.ts, phases.ts,
  // harness/run/README.md), and legacy-ttl's expiry reads virtual time (world/sim/sim-now.ts).
  const clock = new VirtualClock(SIM_START_MS);
  const router = new Router({ delivery: 'manual', timers: clock });
  const { gates, ...runSeams } = seams;
  const drive = new SimDrive({
    seed: options.seed,
    clock,
    router,
    virtualNow: options.pipeline === 'legacy-ttl',
    ...(gates === undefined ? {} : { gates }),
  });
  const result = await runLive({ ...options, timeScale: 1 }, hooks, {
    ...runSeams,
    world: simWorld(router, clock, { deviceUplinkBytesPerMs: SIM_DEVICE_UPLINK_BYTES_PER_MS }),
    drive,
  });
  const events = result.history.events;
  const virtualSpanMs = (events.at(-1)?.atMs ?? 0) - (events[0]?.atMs ?? 0);
  return { ...result, schedule: drive.stats(), virtualSpanMs };
}
