// The run's fleet, on the world's device transport, with the device faults as effect filters, its time budget and
// the caller's Ctrl-C as its abort signal, and the ACK observer (I7) reading the database through the world.
import { storedCompleteNow } from '../checker/ack-observer.ts';
import { firmwarePolicy, type FirmwareProfile } from '../../simulator/firmware/index.ts';
import { Fleet } from '../fleet/fleet.ts';
import { deviceFaultFilters } from '../nemesis/device-fault-filter.ts';
import { planDevicePoints } from '../nemesis/device-points.ts';
import type { RunContext, RunResources } from './run-context.ts';
import { concurrencyWithinFds, openFilesLimit } from './fd-budget.ts';
import { devicesSimulated } from './run-options.ts';
import { poolSql } from './run-drive.ts';
import type { RunSetup } from './run-setup.ts';

/** Starts the run's time budget and builds its fleet (not yet running). */
export function createRunFleet(run: RunContext, setup: RunSetup, resources: RunResources): Fleet {
  const { options, hooks, clock, drive, history } = run;
  const database = setup.database;
  const liveSql = poolSql(database.pool);
  const budget = new AbortController();
  // Wall time: the budget bounds how long this process works on the run, whatever its clock says.
  resources.budgetTimer = setTimeout(
    () => budget.abort(),
    Math.max(0, options.timeBudgetMs - (Date.now() - run.startedMs)),
  );
  // Device faults: one effect filter per device, each on `fleetRng.fork('nemesis:device:<mac>')` (the fleet's own
  // Rng, as when the fleet drew them itself), so a seed gives the same device faults.
  const fleetRng = run.rng.fork('fleet');
  const simulated = devicesSimulated(options);
  // A sim world has no sockets; live, each awake device holds one (two with the embedded broker in this process).
  const awakeAtOnce =
    drive === undefined
      ? concurrencyWithinFds(
          // No more can be awake than there are devices.
          Math.min(options.concurrencyMax, simulated.to - simulated.from),
          setup.broker?.kind === 'embedded' ? 2 : 1,
          openFilesLimit(),
        )
      : { concurrency: options.concurrencyMax };
  if (awakeAtOnce.capped !== undefined) (hooks.onWarning ?? hooks.onPhase)?.(awakeAtOnce.capped);
  const fleet = new Fleet({
    transport: setup.world.deviceTransport,
    devices: options.devices,
    slice: simulated,
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
    history,
    // Faults at logical points on devices: planned (recorded) now, each handed to its device's filter by index.
    deviceFilter: deviceFaultFilters(
      options.faults.device,
      fleetRng,
      planDevicePoints(options.faults.points, options.devices, history),
    ),
    timeScale: options.timeScale,
    // A driven (virtual) clock sleeps in full: hours of deep sleep cost no wall time there.
    realSleepMsMax: drive === undefined ? 2_000 : Number.POSITIVE_INFINITY,
    staggerMs: Math.min(1_000, (simulated.to - simulated.from) * 2),
    concurrencyMax: awakeAtOnce.concurrency,
    ackTimeoutMs: options.ackTimeoutMs,
    startClockMs: Date.UTC(2026, 0, 14, 6, 0, 0),
    clock,
    signal: hooks.signal ? AbortSignal.any([budget.signal, hooks.signal]) : budget.signal,
    // The harness's own look at the database when an ACK_OK reaches a device (I7): is that capture stored?
    // With a drive, through its gate (a step of the schedule like every other statement during the run).
    observeAck: (mac, _imageName, sha256s) => storedCompleteNow(drive?.actorSql() ?? liveSql, mac, sha256s),
  });
  resources.fleet = fleet;
  return fleet;
}

/** The chunk-id base the run's devices speak on the wire (the fleet's codec, and what the nemesis decodes with). */
export function fleetChunkIdBase(firmware: FirmwareProfile): 0 | 1 {
  return firmwarePolicy(firmware).wireChunkIdBase;
}
