// The run's fault scheduler and what it fires: server, broker and migration faults by the fleet's progress
// (nemesis/trigger.ts), with the samplers its triggers read. `stop()` is the safety phase's end: every fault off,
// a migration the fleet outran done, before the heal phase (ARCHITECTURE.md §6).
import { planRogueDevice } from '../nemesis/rogue-device.ts';
import type { RunnableFleet } from '../fleet/fleet.ts';
import { planBrokerRestarts } from '../nemesis/broker-nemesis.ts';
import { FaultScheduler } from '../nemesis/fault-scheduler.ts';
import { planCrashPoints } from '../nemesis/crash-points.ts';
import { installAedesPubackDrop, type AedesPubackDrop } from '../nemesis/aedes-puback.ts';
import { planPubackPoints } from '../nemesis/puback-points.ts';
import { planServerFaults } from '../nemesis/server-nemesis.ts';
import { InFlightTransfers } from '../checker/in-flight.ts';
import { isEmbeddedBroker } from '../world/broker.ts';
import { simBroker } from '../world/sim/sim-broker.ts';
import { migrateMidRun, migrateOnAdminPool, migrateThrough } from './mid-run-migration.ts';
import { fleetChunkIdBase } from './run-fleet.ts';
import type { PipelineSet } from './pipeline-set.ts';
import { devicesSimulated } from './run-options.ts';
import type { RunContext, RunResources } from './run-context.ts';
import type { RunSetup } from './run-setup.ts';
import type { TimerHandle } from '../world/clock.ts';

const RECEIVING_ROWS_SQL = `SELECT count(*)::int AS n FROM device_images WHERE status = 'receiving' AND received_chunks > 0`;

export interface RunFaults {
  readonly scheduler: FaultScheduler;
  /** Faults off (a fault whose trigger never came is recorded as missed: E1 unknown), network nemesis removed,
   *  the migration finished; rejects if the migration failed (which fails the run). */
  stop(): Promise<void>;
}

export function wireFaults(
  run: RunContext,
  setup: RunSetup,
  fleet: RunnableFleet,
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
  // A shard's: its slice (its pipeline, one of the run's group, stores about as many of the whole run's chunks).
  const simulated = devicesSimulated(options);
  const chunksExpected =
    (simulated.to - simulated.from) *
    options.imagesPerDevice *
    Math.ceil((options.imageKbMean * 1024) / options.chunkBytes);
  // `N-receiving` triggers read the database itself (rows with durable progress) while one waits: live every 20 ms
  // on the admin pool; in sim as a statement through the gate, at a point of the schedule. Live, our pipelines
  // also say so as each chunk batch commits (`receivingNow`, below), which a 20 ms sample can miss on a loaded
  // machine: a small fleet's images are receiving with progress only between two commits.
  let rowsReceiving = 0;
  /** mac|image name of the images a chunk batch left receiving with progress, until their completion commit. */
  const receivingNow = new Set<string>();
  const scheduler = new FaultScheduler(
    history,
    () => ({
      chunksStored: pipelineSet?.stats().chunksStored ?? fleet.counters.chunksSent - fleet.counters.chunksResent,
      chunksExpected,
      transfersInFlight: inFlight.count,
      rowsReceiving: Math.max(rowsReceiving, receivingNow.size),
    }),
    undefined,
    clock,
    // With a drive, triggers are looked at each time its world has settled, not on a timer of its clock.
    { poll: drive === undefined },
  );
  const receiving = (query: (text: string) => Promise<{ rows: { n: number }[] }>) => {
    if (!scheduler.waitsFor('receiving')) return undefined;
    return query(RECEIVING_ROWS_SQL).then(
      ({ rows }) => void (rowsReceiving = rows[0]?.n ?? rowsReceiving),
      () => {},
    );
  };
  let receivingSampler: TimerHandle | undefined;
  if (drive === undefined && pipelineSet !== undefined && scheduler.waitsFor('receiving')) {
    history.subscribe((event) => {
      if (event.type === 'pipeline_committed') receivingNow.delete(`${event.mac}|${event.imageName}`);
    });
    setup.afterChunkFlush.hook = (images) => {
      let grew = false;
      for (const image of images) {
        const key = `${image.mac}|${image.imageName}`;
        // As the batch left the row: a count set back to 0 (legacy-reset-count) or a row no longer receiving is out.
        if (image.receivedChunks <= 0 || image.status !== 'receiving') {
          receivingNow.delete(key);
          continue;
        }
        if (!receivingNow.has(key)) grew = true;
        receivingNow.add(key);
      }
      // At the commit, not at the next poll: the completion commit may come first.
      if (grew) scheduler.checkNow();
    };
  }
  if (drive === undefined) {
    let sampling = false;
    receivingSampler = clock.setInterval(() => {
      if (sampling) return;
      const sampled = receiving((text) => database.pool.query<{ n: number }>(text));
      if (sampled === undefined) return;
      sampling = true;
      void sampled.finally(() => (sampling = false));
    }, 20);
    resources.timers.push(receivingSampler);
  } else {
    // A statement at the gate like any other (its steps are the seed's), asked again only once the pipeline's
    // counts have moved since the last answer: no query per step, none at all through deep sleep.
    const actorSql = drive.actorSql();
    let sampling = false;
    let sampledAt = -1;
    drive.onSettled(() => {
      let started = false;
      if (!sampling && scheduler.waitsFor('receiving')) {
        const s = pipelineSet?.stats();
        const mark = s === undefined ? 0 : s.messages + s.chunksStored + s.imagesCompleted;
        if (mark !== sampledAt) {
          const sampled = receiving((text) => actorSql.query<{ n: number }>(text));
          if (sampled !== undefined) {
            sampling = true;
            sampledAt = mark;
            started = true;
            void sampled.finally(() => (sampling = false));
          }
        }
      }
      return scheduler.checkNow() || started;
    });
  }
  if (pipelineSet)
    planServerFaults({
      faults: faults.server,
      history,
      scheduler,
      adminPool: database.pool,
      control: { crashAndRestart: () => pipelineSet.crashAndRestart() },
      ...(drive === undefined ? {} : { killConnections: () => drive.killPipelineConnections() }),
    });
  // Fault points name devices by their 1-based place in the fleet.
  const macOf = (index: number) => fleet.macAt(index);
  const router = setup.world.router;
  // The crash-before-ack point strikes at the pipelines' own seam between a completion commit and its ACK.
  const crashPoints = pipelineSet
    ? planCrashPoints(faults.points, {
        history,
        macOf,
        crashAndRestart: () => pipelineSet.crashAndRestart(),
      })
    : undefined;
  setup.afterCompletionCommit.hook = crashPoints?.afterCommit;
  // The drop-puback point strikes where the broker acknowledges a device's publish: the sim router's PUBACK filter,
  // or the embedded aedes broker's PubAck write (live-run.ts refuses it on any other broker).
  const pubackPoints = planPubackPoints(faults.points, {
    history,
    macOf,
    chunkIdBase: fleetChunkIdBase(options.firmware), // the fleet's (run-fleet.ts)
  });
  let aedesPuback: AedesPubackDrop | undefined;
  if (pubackPoints !== undefined && router !== undefined)
    router.setPubackFilter((p) => {
      const strike = pubackPoints.take(p.publisherId, p.topic, p.payload);
      strike?.dropped(); // the router drops what its filter says
      return strike !== undefined;
    });
  else if (pubackPoints !== undefined && broker !== undefined && isEmbeddedBroker(broker))
    aedesPuback = installAedesPubackDrop(broker, pubackPoints);
  // The embedded aedes broker restarts itself; the sim world's router through down()/up() on the run's clock.
  const restartable =
    broker !== undefined && isEmbeddedBroker(broker)
      ? broker
      : router !== undefined
        ? simBroker(router, clock)
        : undefined;
  const brokerRestarts =
    restartable !== undefined && faults.network.brokerRestartAt.length > 0
      ? planBrokerRestarts(restartable, faults.network.brokerRestartAt, history, scheduler)
      : undefined;
  // The rogue device publishes as the first device of this process's fleet, through the world's own sessions.
  if (faults.network.rogueDeviceAt.length > 0)
    planRogueDevice(faults.network.rogueDeviceAt, {
      transport: setup.world.deviceTransport,
      victim: () => fleet.macAt(devicesSimulated(options).from + 1),
      history,
      scheduler,
      clock,
    });
  let migration: Promise<void> | undefined;
  const startMigration = () => {
    if (migration || !pipelineSet) return migration;
    // With a drive, through the world's gated database, so the scheduler orders its statements too.
    const apply =
      drive === undefined ? migrateOnAdminPool(database) : () => drive.migrate((db) => migrateThrough(db)());
    migration = migrateMidRun(apply, pipelineSet, history);
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
      setup.afterCompletionCommit.hook = undefined;
      setup.afterChunkFlush.hook = undefined;
      crashPoints?.stop();
      if (pubackPoints !== undefined) router?.setPubackFilter(undefined);
      aedesPuback?.uninstall();
      pubackPoints?.stop();
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
