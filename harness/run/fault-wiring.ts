// The run's fault scheduler and what it fires: server, broker and migration faults by the fleet's progress
// (nemesis/trigger.ts), with the samplers its triggers read. `stop()` is the safety phase's end: every fault off,
// a migration the fleet outran done, before the heal phase (ARCHITECTURE.md §6).
import type { Fleet } from '../fleet/fleet.ts';
import { planBrokerRestarts } from '../nemesis/broker-nemesis.ts';
import { FaultScheduler } from '../nemesis/fault-scheduler.ts';
import { planServerFaults } from '../nemesis/server-nemesis.ts';
import { InFlightTransfers } from '../checker/in-flight.ts';
import { isEmbeddedBroker } from '../world/broker.ts';
import { simBroker } from '../world/sim/sim-broker.ts';
import { migrateMidRun } from './mid-run-migration.ts';
import type { PipelineSet } from './pipeline-set.ts';
import type { RunContext, RunResources } from './run-context.ts';
import type { RunSetup } from './run-setup.ts';

export interface RunFaults {
  readonly scheduler: FaultScheduler;
  /** Faults off (a fault whose trigger never came is recorded as missed: E1 unknown), network nemesis removed,
   *  the migration finished; rejects if the migration failed (which fails the run). */
  stop(): Promise<void>;
}

export function wireFaults(
  run: RunContext,
  setup: RunSetup,
  fleet: Fleet,
  pipelineSet: PipelineSet | undefined,
  resources: RunResources,
): RunFaults {
  const { options, clock, drive, history } = run;
  const { database, broker, network } = setup;
  const faults = options.faults;
  // Server, broker and migration faults fire by the fleet's progress: the share of the expected chunks stored
  // (the pipeline's count; an external pipeline's is unknown, so the devices' first sends stand in) and the
  // transfers in flight, read off the history.
  const inFlight = new InFlightTransfers();
  history.subscribe((event) => inFlight.apply(event));
  const chunksExpected =
    options.devices * options.imagesPerDevice * Math.ceil((options.imageKbMean * 1024) / options.chunkBytes);
  // `N-receiving` triggers read the database itself (rows with durable progress), every 20 ms while one waits.
  let rowsReceiving = 0;
  const scheduler = new FaultScheduler(
    history,
    () => ({
      chunksStored: pipelineSet?.stats().chunksStored ?? fleet.counters.chunksSent - fleet.counters.chunksResent,
      chunksExpected,
      transfersInFlight: inFlight.count,
      rowsReceiving,
    }),
    // With a drive (sim) the scheduler looks between any two steps instead of polling the virtual clock: a whole
    // transfer can take less virtual time than a poll, and a poll would tick through every hour of deep sleep.
    drive === undefined ? undefined : 0,
    clock,
  );
  drive?.watch(() => scheduler.checkNow());
  let sampling = false;
  // Not with a drive: its world refuses the faults that wait on this (sim-run.ts), and a 20 ms interval on a
  // virtual clock would fire through every hour of deep sleep.
  const receivingSampler =
    drive !== undefined
      ? undefined
      : clock.setInterval(() => {
          if (sampling || !scheduler.waitsFor('receiving')) return;
          sampling = true;
          database.pool
            .query<{ n: number }>(
              `SELECT count(*)::int AS n FROM device_images WHERE status = 'receiving' AND received_chunks > 0`,
            )
            .then(
              ({ rows }) => (rowsReceiving = rows[0]?.n ?? rowsReceiving),
              () => {},
            )
            .finally(() => (sampling = false));
        }, 20);
  if (receivingSampler !== undefined) resources.timers.push(receivingSampler);
  if (pipelineSet)
    planServerFaults({
      faults: faults.server,
      history,
      scheduler,
      adminPool: database.pool,
      control: { crashAndRestart: () => pipelineSet.crashAndRestart() },
    });
  // The embedded aedes broker restarts itself; the sim world's router through down()/up() on the run's clock.
  const restartable =
    broker !== undefined && isEmbeddedBroker(broker)
      ? broker
      : setup.world.router !== undefined
        ? simBroker(setup.world.router, clock)
        : undefined;
  const brokerRestarts =
    restartable !== undefined && faults.network.brokerRestartAt.length > 0
      ? planBrokerRestarts(restartable, faults.network.brokerRestartAt, history, scheduler)
      : undefined;
  let migration: Promise<void> | undefined;
  const startMigration = () => {
    if (migration || !pipelineSet) return migration;
    migration = migrateMidRun(database, pipelineSet, history);
    migration.catch(() => {}); // awaited in stop(); this only keeps an early failure from being unhandled
    return migration;
  };
  // The scheduler waits for the migration: no other fault lands on a pipeline being switched.
  if (faults.migration && pipelineSet)
    scheduler.plan('migration', faults.migration.at, () => startMigration() ?? Promise.resolve());

  return {
    scheduler,
    stop: async () => {
      clock.clearInterval(receivingSampler);
      await scheduler.stop();
      await brokerRestarts?.stop();
      network?.uninstall();
      // A migration the fleet outran still happens before the heal phase, so its transfers are checked (I5, M1);
      // a migration that fails fails the run.
      if (faults.migration && pipelineSet) await startMigration();
      await migration;
    },
  };
}
