// The run's fleet, on the world's device transport, with the device faults as effect filters, its time budget and
// the caller's Ctrl-C as its abort signal, and the ACK observer (I7) reading the database through the world.
// Live, a big fleet runs on fleet threads of its own (fleet-threads.ts) so the devices and the broker and pipeline
// of this thread each have a core; each thread builds its share's Fleet from the same options (runFleetOptions).
import { storedCompleteNow } from '../checker/ack-observer.ts';
import { firmwarePolicy, type FirmwareProfile } from '../../simulator/firmware/index.ts';
import { createRng } from '../../simulator/random/prng.ts';
import { Fleet, type FleetOptions, type RunnableFleet } from '../fleet/fleet.ts';
import { newFleetCounters } from '../fleet/fleet-counters.ts';
import type { HistoryAppender } from '../history/history.ts';
import { deviceFaultFilters } from '../nemesis/device-fault-filter.ts';
import { planDevicePoints, type DevicePoint } from '../nemesis/device-points.ts';
import type { Clock } from '../world/clock.ts';
import type { DeviceTransportFactory } from '../world/world.ts';
import type { Forwarder } from '../forwarder/start.ts';
import type { RunContext, RunResources } from './run-context.ts';
import { concurrencyWithinFds, openFilesLimit } from './fd-budget.ts';
import { FleetThreads, fleetThreadsFor } from './fleet-threads.ts';
import { devicesSimulated, type LiveRunOptions } from './run-options.ts';
import { poolSql } from './run-drive.ts';
import type { PipelineSet } from './pipeline-set.ts';
import { pipelineBackPressure } from './wake-hold.ts';
import type { RunSetup } from './run-setup.ts';

/** Which of the run's devices a Fleet simulates, and how (this thread's whole slice, or one fleet thread's). */
export interface FleetShare {
  /** 0-based places in the whole fleet, `to` exclusive. */
  readonly slice: { readonly from: number; readonly to: number };
  readonly concurrencyMax: number;
  /** The first wakes are spread over this window. */
  readonly staggerMs: number;
  readonly realSleepMsMax: number;
}

/** What a Fleet's devices reach: the broker, the history, the clock, the ACK observer, the run's abort signal. */
export interface FleetEnv {
  readonly transport: DeviceTransportFactory;
  readonly history: HistoryAppender;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly observeAck: FleetOptions['observeAck'];
  /** The device fault points of the device at a 1-based place (device-points.ts). */
  readonly pointsOf: (index: number) => readonly DevicePoint[];
  /** The pipeline is behind: no more devices wake until it is not (FleetOptions.wakesHeld). */
  readonly wakesHeld?: () => boolean;
}

/** The Fleet of `share` of the run's devices. The same options, share and seed give the same devices and faults
 *  on whichever thread builds them. */
export function runFleetOptions(options: LiveRunOptions, share: FleetShare, env: FleetEnv): FleetOptions {
  // Device faults: one effect filter per device, each on `fleetRng.fork('nemesis:device:<mac>')` (the fleet's own
  // Rng, as when the fleet drew them itself), so a seed gives the same device faults.
  const fleetRng = createRng(options.seed).fork('fleet');
  return {
    transport: env.transport,
    devices: options.devices,
    slice: share.slice,
    imagesPerDevice: options.imagesPerDevice,
    imageKbMean: options.imageKbMean,
    chunkBytes: options.chunkBytes,
    wakesMax: options.wakesMax,
    qos: options.qos,
    dialect: options.dialect,
    // The pipeline speaks the deployment's 0-based ids (PipelineOptions.chunkIdBase); the fleet speaks its firmware's:
    // 0 but for fw-one-based-ids, the vendor PDF's 1..N against that deployment (PROTOCOL.md §7.7).
    chunkIdBase: fleetChunkIdBase(options.firmware),
    firmware: options.firmware,
    ackNamesCapture: options.ackNamesCapture,
    rng: fleetRng,
    history: env.history,
    // Faults at logical points on devices, each handed to its device's filter by index.
    deviceFilter: deviceFaultFilters(options.faults.device, fleetRng, env.pointsOf),
    timeScale: options.timeScale,
    realSleepMsMax: share.realSleepMsMax,
    staggerMs: share.staggerMs,
    concurrencyMax: share.concurrencyMax,
    ackTimeoutMs: options.ackTimeoutMs,
    startClockMs: Date.UTC(2026, 0, 14, 6, 0, 0),
    clock: env.clock,
    signal: env.signal,
    observeAck: env.observeAck,
    ...(env.wakesHeld === undefined ? {} : { wakesHeld: env.wakesHeld }),
  };
}

/** Starts the run's time budget and builds its fleet (not yet running). */
export function createRunFleet(
  run: RunContext,
  setup: RunSetup,
  resources: RunResources,
  pipelines: PipelineSet | undefined,
  /** The webhook forwarder, when the run forwards: behind, it holds new wakes as the pipeline does. */
  forwarder?: Forwarder,
): RunnableFleet {
  const { options, hooks, clock, drive, history } = run;
  const database = setup.database;
  const liveSql = poolSql(database.pool);
  const budget = new AbortController();
  // Wall time: the budget bounds how long this process works on the run, whatever its clock says.
  resources.budgetTimer = setTimeout(
    () => budget.abort(),
    Math.max(0, options.timeBudgetMs - (Date.now() - run.startedMs)),
  );
  const simulated = devicesSimulated(options);
  const count = simulated.to - simulated.from;
  // A sim world has no sockets; live, each awake device holds one (two with the embedded broker in this process).
  const awakeAtOnce =
    drive === undefined
      ? concurrencyWithinFds(
          // No more can be awake than there are devices.
          Math.min(options.concurrencyMax, count),
          setup.broker?.kind === 'embedded' ? 2 : 1,
          openFilesLimit(),
        )
      : { concurrency: options.concurrencyMax };
  if (awakeAtOnce.capped !== undefined) (hooks.onWarning ?? hooks.onPhase)?.(awakeAtOnce.capped);
  // Recorded once, here: each device's points reach its filter on whichever thread it runs.
  const pointsOf = planDevicePoints(options.faults.points, options.devices, history);
  const share: FleetShare = {
    slice: simulated,
    concurrencyMax: awakeAtOnce.concurrency,
    // 500 first wakes a second, all within 5 s: 10,000 devices woken in one second buried the pipeline before any
    // back-pressure was heard (a fleet thread busy waking them hears of it only after).
    staggerMs: Math.min(5_000, count * 2),
    // A driven (virtual) clock sleeps in full: hours of deep sleep cost no wall time there.
    realSleepMsMax: drive === undefined ? 2_000 : Number.POSITIVE_INFINITY,
  };
  const signal = hooks.signal ? AbortSignal.any([budget.signal, hooks.signal]) : budget.signal;
  // Back-pressure: live, no more devices wake while the run's pipeline is behind (an external one says nothing).
  // Not with a drive: its scheduler decides who runs, and a poll on its clock would be a step of its own.
  let built: RunnableFleet | undefined = undefined;
  const wakesHeld =
    drive === undefined && pipelines !== undefined
      ? pipelineBackPressure({
          fleet: () => built?.counters ?? newFleetCounters(),
          pipeline: () => pipelines.stats(),
          // A forwarder that stops reading (its deliveries at their bound) leaves the broker buffering for it.
          pipelineBehind: () => pipelines.behind() || forwarder?.behind() === true,
          nowMs: () => Date.now(), // wall time: how long the pipeline has not read, on this machine
        })
      : undefined;
  // Fleet threads need a broker their devices reach over TCP and real time: a live world's, not a driven one.
  const threads =
    drive === undefined && setup.broker !== undefined && setup.world.router === undefined
      ? fleetThreadsFor(options, count)
      : 0;
  if (threads > 0 && setup.broker !== undefined) {
    const fleet = new FleetThreads({
      options,
      share,
      threads,
      brokerUrl: setup.broker.url,
      brokerAuth: setup.broker.auth,
      brokerCa: setup.broker.ca,
      databaseUrl: database.scratch.url,
      history,
      signal,
      ...(wakesHeld === undefined ? {} : { wakesHeld }),
    });
    built = fleet;
    resources.fleet = fleet;
    return fleet;
  }
  const fleet = new Fleet(
    runFleetOptions(options, share, {
      transport: setup.world.deviceTransport,
      history,
      clock,
      signal,
      pointsOf,
      ...(wakesHeld === undefined ? {} : { wakesHeld }),
      // The harness's own look at the database when an ACK_OK reaches a device (I7): is that capture stored?
      // With a drive, through its gate (a step of the schedule like every other statement during the run).
      observeAck: (mac, _imageName, sha256s) => storedCompleteNow(drive?.actorSql() ?? liveSql, mac, sha256s),
    }),
  );
  built = fleet;
  resources.fleet = fleet;
  return fleet;
}

/** The chunk-id base the run's devices speak on the wire (the fleet's codec, and what the nemesis decodes with). */
export function fleetChunkIdBase(firmware: FirmwareProfile): 0 | 1 {
  return firmwarePolicy(firmware).wireChunkIdBase;
}
