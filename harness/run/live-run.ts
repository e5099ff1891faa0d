// One live run: world up (database at the run's stage, broker), pipeline(s), fleet, nemesis; then the heal phase
// (faults off, devices with work left get clean wakes), a quiet period, the checker over the history and the
// database, and everything torn down again. Safety phase, then heal, then liveness (ARCHITECTURE.md §6).
// The fleet and the pipelines reach the broker through a World (run-world.ts): a live one over the broker opened
// here, or the one the caller hands in (RunSeams.world, e.g. the sim world's in-memory router).
import type pg from 'pg';
import { applyStep } from '../../schema/runner.ts';
import { schemaSteps } from '../../schema/steps.ts';
import { createRng } from '../../simulator/random/prng.ts';
import {
  checkInvariants,
  installProgressAudit,
  overallVerdict,
  snapshotBeforeCleanup,
  unknownVerdict,
  type InvariantVerdict,
} from '../checker/index.ts';
import { Fleet } from '../fleet/fleet.ts';
import type { FleetCounters } from '../fleet/fleet-counters.ts';
import { History } from '../history/history.ts';
import { planBrokerRestarts } from '../nemesis/broker-nemesis.ts';
import { deviceFaultFilters } from '../nemesis/device-fault-filter.ts';
import { FaultScheduler } from '../nemesis/fault-scheduler.ts';
import { installNetworkNemesisOnBroker } from '../nemesis/network-nemesis.ts';
import { planServerFaults } from '../nemesis/server-nemesis.ts';
import { storedCompleteNow } from '../checker/ack-observer.ts';
import { InFlightTransfers } from '../checker/in-flight.ts';
import { checkExercised, hasExercises } from '../checker/exercises.ts';
import { startSlowDbProxy } from '../nemesis/slow-db-proxy.ts';
import { startSlowSubscriber } from '../nemesis/slow-subscriber.ts';
import { startPipeline, type PipelineProfile, type PipelineStats } from '../pipeline/index.ts';
import { isEmbeddedBroker, type Broker } from '../world/broker.ts';
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { openRunDatabase, type RunDatabase } from '../world/database.ts';
import { redactUrl } from '../db/database-error.ts';
import { startExternalCommand, waitForIngestionSubscriber } from './external-service.ts';
import { emptyPipelineStats, PipelineSet } from './pipeline-set.ts';
import type { LiveRunOptions } from './run-options.ts';
import { givenWorldProblem, openRunWorld, RunWorldError } from './run-world.ts';
import type { World } from '../world/world.ts';
import { poolSql, type RunDrive } from './run-drive.ts';

export interface RunProgress {
  readonly fleet: FleetCounters;
  readonly pipeline: PipelineStats | undefined;
  readonly elapsedMs: number;
  /** `fleet` (faults on), `heal` (faults off, clean wakes) or `done`. */
  readonly phase: 'fleet' | 'heal' | 'done';
  /** A fault being injected right now (a pipeline restarting, a migration), so a stall has a name. */
  readonly injecting: { readonly fault: string; readonly trigger: string } | undefined;
  /** The firmware's silence timeout: how long a device that got no answer waits before it re-sends. */
  readonly ackTimeoutMs: number;
}

export interface LiveRunResult {
  readonly verdict: 'pass' | 'fail' | 'unknown';
  readonly verdicts: readonly InvariantVerdict[];
  readonly aborted: boolean;
  readonly fleet: FleetCounters;
  readonly pipeline: PipelineStats;
  readonly wallMs: number;
  /** From the first wake to the last device done (heal phase included). */
  readonly fleetMs: number;
  readonly peakRssBytes: number;
  /** The broker the run opened, or `sim` (the in-memory router) / `external` (a live world the caller gave). */
  readonly brokerKind: Broker['kind'] | 'sim';
  readonly databaseKind: 'embedded' | 'external';
  readonly databaseName: string;
  /** The run database's URL when it was kept (`keepDatabase` on an external server; for `--pipeline external`). */
  readonly keptDatabaseUrl: string | undefined;
  /** Faults injected, by name (from the history's nemesis events). */
  readonly faultsInjected: Readonly<Record<string, number>>;
  readonly history: History;
}

export interface RunHooks {
  /** Start-up steps, for a "starting…" line. */
  onPhase?(phase: string): void;
  onProgress?(progress: RunProgress): void;
  progressIntervalMs?: number;
  /** Stops the run early (Ctrl-C): like an exhausted time budget, the verdict is then at best unknown. */
  signal?: AbortSignal;
  /** Called as the fleet starts, for scripted interventions (a scenario's operator re-inserting rows), planned on
   *  the run's fault scheduler like its faults. */
  onFleetStart?(world: {
    db: pg.Pool;
    history: History;
    plan(fault: string, trigger: string, work: () => Promise<void>): void;
  }): void;
}

/** What a run is given besides its options: the seams a world provides (ARCHITECTURE.md §8). */
export interface RunSeams {
  /** The run's one clock: fleet, pipelines, nemeses, broker restarts and the history's atMs all read it, and the
   *  quiet period waits on it. Default realClock. (The time budget, the progress display and the run's wall time
   *  are wall time whatever the clock.) */
  readonly clock?: Clock;
  /** The world the fleet and the pipelines talk through, owned by the caller; instead of the broker the run would
   *  open (no `brokerUrl`, no external pipeline, no network faults: see run-world.ts). Its clock is the run's clock
   *  (a different `clock` beside it is refused). Default: a live world over aedes or `brokerUrl`. */
  readonly world?: World;
  /** What moves the world while the fleet, heal and quiet phases run, and the database the actors use meanwhile
   *  (run-drive.ts): the sim world's seeded scheduler and gated database (sim-run.ts). Default: none, the live
   *  world moves by itself and the actors use pg pools. With a drive, the pipelines are stopped (drained) before
   *  the check phase, while the world still moves. */
  readonly drive?: RunDrive;
  /** Opens the run's database (default openRunDatabase: a fresh scratch database, dropped at close). A sweep
   *  (sweep-database.ts) hands out one database reset between runs instead. */
  readonly openDatabase?: typeof openRunDatabase;
}

/** How long to wait for an external pipeline to subscribe before giving up (exit 2). */
const externalSubscribeTimeoutMs = 60_000;

/** The chunk buffer TTL of `legacy-ttl` (30 min in the original), in the run's compressed time. */
function legacyTtlMs(timeScale: number): number {
  return Math.max(20, (30 * 60_000) / timeScale);
}

const step = (stage: string) => {
  const found = schemaSteps.find((s) => s.stage === stage);
  if (!found) throw new Error(`no schema step ${stage}`);
  return found;
};

export async function runLive(
  options: LiveRunOptions,
  hooks: RunHooks = {},
  seams: RunSeams = {},
): Promise<LiveRunResult> {
  if (seams.world !== undefined) {
    const problem = givenWorldProblem(options, seams.world, seams.clock);
    if (problem !== undefined) throw new RunWorldError(problem);
  }
  const clock = seams.world?.clock ?? seams.clock ?? realClock;
  const drive = seams.drive;
  const startedMs = Date.now(); // wall time: the time budget and the run's wallMs measure this process
  let peakRssBytes = process.memoryUsage().rss;
  // Wall time: it samples this process's memory, not the world.
  const rssSampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss)), 100);
  rssSampler.unref();
  const history = new History(() => clock.nowMs());
  if (options.historyPath) history.writeTo(options.historyPath);
  const rng = createRng(options.seed);
  const faults = options.faults;
  const external = options.pipeline === 'external';
  /** Timers of the run's clock, cleared at the end whatever happens. */
  const timers: TimerHandle[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let db: RunDatabase | undefined;
  let broker: Broker | undefined;
  let pipelines: PipelineSet | undefined;
  let fleet: Fleet | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let budgetTimer: NodeJS.Timeout | undefined;
  try {
    hooks.onPhase?.('starting Postgres');
    db = await (seams.openDatabase ?? openRunDatabase)({
      databaseUrl: options.databaseUrl,
      stage: options.stage,
      purpose: 'simulate',
    });
    await installProgressAudit(db.pool);
    await drive?.open(db.scratch.url, poolSql(db.pool));
    const opened = await openRunWorld(options, seams.world, clock, (phase) => hooks.onPhase?.(phase));
    broker = opened.broker;
    const world = opened.world;
    const database = db;

    // Network faults act inside the embedded broker (and follow it through restarts).
    const network =
      broker !== undefined && isEmbeddedBroker(broker)
        ? installNetworkNemesisOnBroker(broker, faults.network, rng.fork('nemesis:network'), history, {
            pipelineClientIdPrefix: 'camfleet-pipeline',
            clock,
          })
        : undefined;
    // The broker's side of the story: every client session, in the same history.
    if (broker !== undefined && isEmbeddedBroker(broker)) {
      const observe = (aedes: NonNullable<Broker['aedes']>) => {
        aedes.on('client', (client) => history.append({ type: 'broker_client', clientId: client.id, connected: true }));
        aedes.on('clientDisconnect', (client) =>
          history.append({ type: 'broker_client', clientId: client.id, connected: false }),
        );
      };
      observe(broker.aedes);
      broker.onAedes(observe);
    }
    if (faults.network.slowSubscriber && broker?.kind === 'external') {
      const slow = await startSlowSubscriber(broker.url, history, { clock });
      cleanups.push(() => slow.stop());
    }

    // The pipeline reaches Postgres through a slow link when that fault is on.
    let pipelineDatabaseUrl = db.scratch.url;
    if (faults.server.slowDatabaseMs > 0) {
      const proxy = await startSlowDbProxy(db.scratch.url, faults.server.slowDatabaseMs, history, clock);
      pipelineDatabaseUrl = proxy.url;
      cleanups.push(() => proxy.stop());
    }

    if (external) {
      // givenWorldProblem refused an external pipeline on a given world: the service needs a broker URL.
      if (broker === undefined) throw new RunWorldError('--pipeline external needs the broker the run opens');
      const brokerUrl = broker.url;
      hooks.onPhase?.(`external pipeline: broker ${redactUrl(brokerUrl)}, database ${redactUrl(db.scratch.url)}`);
      if (options.externalCommand) {
        const service = startExternalCommand(
          options.externalCommand,
          { brokerUrl, databaseUrl: db.scratch.url },
          (line) => hooks.onPhase?.(line),
          clock,
        );
        cleanups.push(() => service.stop());
      }
      if (broker.aedes) {
        hooks.onPhase?.('waiting for the external pipeline to subscribe to the device data topics');
        await waitForIngestionSubscriber(broker.aedes, externalSubscribeTimeoutMs, clock).catch((error: unknown) => {
          throw Object.assign(new Error(`--pipeline external: ${(error as Error).message}`), { exitCode: 2 });
        });
      } else {
        await clock.sleep(3_000); // a real broker tells us nothing: give it time
      }
    } else {
      hooks.onPhase?.('starting the ingestion pipeline');
      drive?.start(); // the pipelines' start-up statements wait at the drive's gate
      pipelines = new PipelineSet(
        (profile: PipelineProfile, instanceTag: string) =>
          startPipeline({
            // Named in the pipeline's log lines; the world's link is what connects.
            brokerUrl: broker?.url ?? world.brokerLabel,
            link: world.pipelineLink,
            databaseUrl: pipelineDatabaseUrl,
            history,
            profile,
            instanceTag,
            chunkTtlMs: legacyTtlMs(options.timeScale),
            clock,
            ...(drive === undefined
              ? {}
              : { database: drive.pipelineDatabase(), clientId: drive.pipelineClientId(instanceTag) }),
          }),
        options.pipeline,
        faults.server.twoInstances ? 2 : 1,
      );
      await pipelines.start();
      // Both instances take every message: one re-announcement can be logged twice (the checker's I6 allows it).
      if (faults.server.twoInstances) history.append({ type: 'nemesis', fault: 'two_instances', target: 'pipeline' });
    }
    const pipelineSet = pipelines;

    const budget = new AbortController();
    // Wall time: the budget bounds how long this process works on the run, whatever its clock says.
    budgetTimer = setTimeout(() => budget.abort(), Math.max(0, options.timeBudgetMs - (Date.now() - startedMs)));
    // Device faults: one effect filter per device, each on `fleetRng.fork('nemesis:device:<mac>')` (the fleet's own
    // Rng, as when the fleet drew them itself), so a seed gives the same device faults.
    const fleetRng = rng.fork('fleet');
    fleet = new Fleet({
      transport: world.deviceTransport,
      devices: options.devices,
      imagesPerDevice: options.imagesPerDevice,
      imageKbMean: options.imageKbMean,
      chunkBytes: options.chunkBytes,
      wakesMax: options.wakesMax,
      qos: options.qos,
      dialect: options.dialect,
      chunkIdBase: 0,
      rng: fleetRng,
      history,
      deviceFilter: deviceFaultFilters(faults.device, fleetRng),
      timeScale: options.timeScale,
      // A driven (virtual) clock sleeps in full: hours of deep sleep cost no wall time there.
      realSleepMsMax: drive === undefined ? 2_000 : Number.POSITIVE_INFINITY,
      staggerMs: Math.min(1_000, options.devices * 2),
      concurrencyMax: options.concurrencyMax,
      ackTimeoutMs: options.ackTimeoutMs,
      startClockMs: Date.UTC(2026, 0, 14, 6, 0, 0),
      clock,
      signal: hooks.signal ? AbortSignal.any([budget.signal, hooks.signal]) : budget.signal,
      // The harness's own look at the database when an ACK_OK reaches a device (I7): is that capture stored?
      // With a drive, through its gate (a step of the schedule like every other statement during the run).
      observeAck: (mac, _imageName, sha256s) =>
        storedCompleteNow(
          async (text, values) =>
            drive === undefined
              ? (await database.pool.query<{ ok: boolean }>(text, [...values])).rows
              : (await drive.actorSql().query<{ ok: boolean }>(text, values)).rows,
          mac,
          sha256s,
        ),
    });
    const fleetRef = fleet;
    const pipelineStats = () => pipelineSet?.stats();

    // Server, broker and migration faults fire by the fleet's progress (nemesis/trigger.ts): the share of the
    // expected chunks stored (the pipeline's count; an external pipeline's is unknown, so the devices' first sends
    // stand in) and the transfers in flight, read off the history.
    const inFlight = new InFlightTransfers();
    history.subscribe((event) => inFlight.apply(event));
    const chunksExpected =
      options.devices * options.imagesPerDevice * Math.ceil((options.imageKbMean * 1024) / options.chunkBytes);
    // `N-receiving` triggers read the database itself (rows with durable progress), every 20 ms while one waits.
    let rowsReceiving = 0;
    const scheduler = new FaultScheduler(
      history,
      () => ({
        chunksStored:
          pipelineSet?.stats().chunksStored ?? fleetRef.counters.chunksSent - fleetRef.counters.chunksResent,
        chunksExpected,
        transfersInFlight: inFlight.count,
        rowsReceiving,
      }),
      undefined,
      clock,
    );
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
    if (receivingSampler !== undefined) timers.push(receivingSampler);
    if (pipelineSet)
      planServerFaults({
        faults: faults.server,
        history,
        scheduler,
        adminPool: database.pool,
        control: { crashAndRestart: () => pipelineSet.crashAndRestart() },
      });
    const brokerRestarts =
      broker !== undefined && isEmbeddedBroker(broker) && faults.network.brokerRestartAt.length > 0
        ? planBrokerRestarts(broker, faults.network.brokerRestartAt, history, scheduler)
        : undefined;
    let migration: Promise<void> | undefined;
    const startMigration = () => {
      if (migration || !pipelineSet) return migration;
      migration = migrateMidRun(database, pipelineSet, history);
      migration.catch(() => {}); // awaited below; this only keeps an early failure from being unhandled
      return migration;
    };
    // The scheduler waits for the migration: no other fault lands on a pipeline being switched.
    if (faults.migration && pipelineSet)
      scheduler.plan('migration', faults.migration.at, () => startMigration() ?? Promise.resolve());

    let phase: RunProgress['phase'] = 'fleet';
    const progressNow = (): RunProgress => ({
      fleet: fleetRef.counters,
      pipeline: pipelineStats(),
      elapsedMs: Date.now() - startedMs, // wall time: what the person watching has waited
      phase,
      injecting: scheduler.injecting,
      ackTimeoutMs: options.ackTimeoutMs,
    });
    // Wall time: the display refreshes for the person watching, however fast the run's clock goes.
    progressTimer = setInterval(() => hooks.onProgress?.(progressNow()), hooks.progressIntervalMs ?? 250);

    const fleetStartMs = clock.nowMs();
    history.append({ type: 'run_phase', phase: 'start' });
    hooks.onFleetStart?.({ db: database.pool, history, plan: (f, t, work) => scheduler.plan(f, t, work) });
    scheduler.start();
    let outcome = await fleet.run();
    // Heal: faults stop (a fault whose trigger never came is recorded as missed: E1 unknown); devices that still
    // hold work get clean wakes until their queues drain.
    clock.clearInterval(receivingSampler);
    await scheduler.stop();
    await brokerRestarts?.stop();
    network?.uninstall();
    // A migration the fleet outran still happens before the heal phase, so its transfers are checked (I5, M1);
    // a migration that fails fails the run.
    if (faults.migration && pipelineSet) await startMigration();
    await migration;
    if (!outcome.aborted) {
      history.append({ type: 'run_phase', phase: 'heal' });
      hooks.onPhase?.('heal phase');
      phase = 'heal';
      outcome = await fleet.heal();
    }
    const fleetMs = clock.nowMs() - fleetStartMs;
    clearInterval(progressTimer);
    phase = 'done';
    hooks.onProgress?.(progressNow());

    history.append({ type: 'run_phase', phase: 'quiet' });
    hooks.onPhase?.('quiet period');
    await fleet.shutdown();
    await pipelineSet?.idle();
    await clock.sleep(external ? Math.max(2_000, options.quietMs) : options.quietMs);
    await pipelineSet?.idle();
    if (drive !== undefined) {
      // Stopping a pipeline takes statements and messages: done while the drive still moves the world, which
      // then stops — the checker below reads the database directly.
      await pipelineSet?.stop();
      await drive.stop();
    }

    history.append({ type: 'run_phase', phase: 'check' });
    hooks.onPhase?.('checking invariants');
    let verdicts = await checkInvariants(db.pool, history.events);
    if (hasExercises(history.events, options.exercises ?? []))
      verdicts = [...verdicts, checkExercised(history.events, options.exercises ?? [])];
    for (const error of scheduler.stats().errors) hooks.onPhase?.(`a fault could not be injected: ${error}`);
    if (faults.migration && !verdicts.some((v) => v.id === 'M1')) {
      verdicts = [
        ...verdicts,
        unknownVerdict('M1', 'the run was to migrate mid-run, but no pre-cleanup snapshot exists'),
      ];
    }
    if (outcome.aborted) {
      // A run cut short proves nothing about liveness.
      verdicts = verdicts.map((v) =>
        v.id === 'I5' && v.verdict === 'fail'
          ? { ...v, verdict: 'unknown', summary: `run stopped before the fleet finished; ${v.summary}` }
          : v,
      );
    }
    history.append({ type: 'run_phase', phase: 'end' });
    const verdict = outcome.aborted && overallVerdict(verdicts) === 'pass' ? 'unknown' : overallVerdict(verdicts);
    const faultsInjected: Record<string, number> = {};
    for (const e of history.events)
      if (e.type === 'nemesis') faultsInjected[e.fault] = (faultsInjected[e.fault] ?? 0) + 1;
    const keep = (options.keepDatabase || external) && db.server.kind === 'external';
    return {
      verdict,
      verdicts,
      aborted: outcome.aborted,
      fleet: fleet.counters,
      pipeline: pipelineStats() ?? emptyPipelineStats(),
      wallMs: Date.now() - startedMs, // wall time
      fleetMs,
      peakRssBytes,
      brokerKind: broker?.kind ?? (world.mode === 'sim' ? 'sim' : 'external'),
      databaseKind: db.server.kind,
      databaseName: db.scratch.name,
      keptDatabaseUrl: keep ? db.scratch.url : undefined,
      faultsInjected,
      history,
    };
  } finally {
    // First: after it, callers at a driven world's gate get an error instead of waiting for a scheduler.
    await drive?.close().catch(() => {});
    clearInterval(rssSampler);
    if (progressTimer) clearInterval(progressTimer);
    if (budgetTimer) clearTimeout(budgetTimer);
    for (const t of timers) clock.clearTimeout(t);
    await fleet?.shutdown().catch(() => {});
    // With a drive, the pipelines were stopped while it ran; one still up here (the run failed) is crashed.
    await (drive === undefined ? pipelines?.stop() : pipelines?.crash())?.catch(() => {});
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await broker?.stop().catch(() => {});
    const keep = (options.keepDatabase || external) && db?.server.kind === 'external';
    await db?.close({ keep }).catch(() => {});
    await history.close();
  }
}

/**
 * The seed's two steps applied while transfers are in flight (ARCHITECTURE.md §4): the legacy pipeline is stopped
 * (drained), the cleanup (after a snapshot the checker's M1 compares against) and the resume migration run, and the
 * `fixed` pipeline takes over. Interrupted transfers must then complete (I5) with no duplicates left (I1).
 */
async function migrateMidRun(db: RunDatabase, pipelines: PipelineSet, history: History): Promise<void> {
  history.append({ type: 'nemesis', fault: 'migration', detail: `start (pipeline ${pipelines.currentProfile})` });
  await pipelines.stop();
  const client = await db.pool.connect();
  try {
    await snapshotBeforeCleanup(client);
    await applyStep(client, step('cleanup'));
    await applyStep(client, step('resume'));
  } finally {
    client.release();
  }
  await pipelines.switchProfile('fixed');
  history.append({ type: 'nemesis', fault: 'migration', detail: 'done: cleanup + resume applied, pipeline fixed' });
}
