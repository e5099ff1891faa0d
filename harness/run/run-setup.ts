// Setting a run up, before its fleet exists: the database at the run's stage, the world (and the broker it opens),
// the observers and network nemesis on that broker, the slow links, and the pipeline(s) — or the user's own
// service. Each thing opened goes into the run's resources as soon as it exists, so a failure half-way is still
// torn down in full (run-teardown.ts).
import type pg from 'pg';
import { installProgressAudit } from '../checker/index.ts';
import { redactUrl } from '../db/database-error.ts';
import { describeFaultPlan, faultMixes } from '../nemesis/fault-plan.ts';
import { installNetworkNemesisOnBroker, type NetworkNemesis } from '../nemesis/network-nemesis.ts';
import { installSimNetworkNemesis } from '../nemesis/sim-network-nemesis.ts';
import { startSlowDbProxy } from '../nemesis/slow-db-proxy.ts';
import { startSlowSubscriber } from '../nemesis/slow-subscriber.ts';
import { publishRefusal, simRoleOf } from '../world/broker-auth.ts';
import { startPipeline, type CommittedImage, type FlushedImage, type PipelineProfile } from '../pipeline/index.ts';
import type { ExternalEdge } from '../pipeline/options.ts';
import { isEmbeddedBroker, type Broker } from '../world/broker.ts';
import type { RunDatabase } from '../world/database.ts';
import { slowDatabase } from '../world/sim/slow-database.ts';
import type { World } from '../world/world.ts';
import { startExternalCommand, waitForIngestionSubscriber, type CommandExit } from './external-service.ts';
import { PipelineSet } from './pipeline-set.ts';
import type { RunContext, RunResources } from './run-context.ts';
import { poolSql } from './run-drive.ts';
import { openRunWorld, RunWorldError } from './run-world.ts';
import { serverSubscriptionsFor } from '../../simulator/protocol/index.ts';
import { simulatedMacs } from './run-macs.ts';
import { createShardHistoryTables } from './shard-history.ts';
import { runDatabaseName, runGroup } from './shard.ts';
import { WORKERS_EXTERNAL_DEFAULT, workersRefusal, type LiveRunOptions } from './run-options.ts';

/** How long to wait for an external pipeline to subscribe before giving up (exit 2). */
const externalSubscribeTimeoutMs = 60_000;

/** The chunk buffer TTL of `legacy-ttl` (30 min in the original), in the run's compressed time. */
function legacyTtlMs(timeScale: number): number {
  return Math.max(20, (30 * 60_000) / timeScale);
}

/** Whether the plan drops, duplicates, reorders, delays or cuts anything (broker restarts are fault-wiring.ts'). */
function hasDeliveryFaults(network: RunContext['options']['faults']['network']): boolean {
  return describeFaultPlan({ ...faultMixes.none, network: { ...network, brokerRestartAt: [] } }) !== 'none';
}

/** What the run's world came up as: what the fleet, the pipelines and the nemeses are wired to. */
export interface RunSetup {
  readonly database: RunDatabase;
  readonly world: World;
  /** The broker the run opened; undefined on a given world. */
  readonly broker: Broker | undefined;
  /** The network nemesis inside the embedded broker, or on the sim world's router (when the plan has network
   *  faults); undefined on any other broker. */
  readonly network: NetworkNemesis | undefined;
  /** The scratch database, or the slow proxy in front of it when that fault is on. */
  readonly pipelineDatabaseUrl: string;
  /** What every pipeline instance awaits between a completion commit and its ACK: the crash-before-ack fault
   *  point's hook once fault-wiring.ts has planned it (it needs the fleet, built after the pipelines start). */
  readonly afterCompletionCommit: { hook: ((committed: CommittedImage) => Promise<void>) | undefined };
  /** What every pipeline instance calls as a chunk batch commits: the `N-receiving` triggers' count, once
   *  fault-wiring.ts has planned them (live runs). */
  readonly afterChunkFlush: { hook: ((images: readonly FlushedImage[]) => void) | undefined };
}

/** Database, world, broker observers and network-side faults; no pipeline yet. */
export async function setUpWorld(
  run: RunContext,
  givenWorld: World | undefined,
  resources: RunResources,
): Promise<RunSetup> {
  const { options, hooks, clock, drive, history } = run;
  const faults = options.faults;
  hooks.onPhase?.('starting Postgres');
  const shard = options.shard;
  const db = await run.openDatabase({
    databaseUrl: options.databaseUrl,
    stage: options.stage,
    purpose: 'simulate',
    // A shard's database is the run's: the first shard sets it up (audit triggers included), the others find it.
    ...(shard === undefined
      ? {}
      : {
          sharedName: runDatabaseName(shard.runId),
          setUp: async (client: pg.ClientBase, alreadyDone: boolean) => {
            if (!alreadyDone) await installProgressAudit(client);
            await createShardHistoryTables(client);
          },
        }),
  });
  resources.db = db;
  if (shard === undefined) await installProgressAudit(db.pool);
  await drive?.open(db.scratch.url, poolSql(db.pool));
  const opened = await openRunWorld(options, givenWorld, clock, (phase) => hooks.onPhase?.(phase));
  const broker = opened.broker;
  resources.broker = broker;

  // Network faults act inside the embedded broker (and follow it through restarts), or on the sim world's router
  // with the same decisions from the same stream. On the router only when the plan has any (a filter call per
  // delivery is the sim sweep's cost; over aedes it was always installed, and stays so).
  const networkOptions = { pipelineClientIdPrefix: 'camfleet-pipeline', clock };
  const router = opened.world.router;
  const network =
    broker !== undefined && isEmbeddedBroker(broker)
      ? installNetworkNemesisOnBroker(broker, faults.network, run.rng.fork('nemesis:network'), history, networkOptions)
      : router !== undefined && hasDeliveryFaults(faults.network)
        ? installSimNetworkNemesis(router, faults.network, run.rng.fork('nemesis:network'), history, networkOptions)
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
    broker.onRefused((r) =>
      history.append({
        type: 'broker_refused',
        action: r.action,
        clientId: r.clientId,
        ...(r.username === undefined ? {} : { username: r.username }),
        ...(r.topic === undefined ? {} : { topic: r.topic }),
        reason: r.reason,
      }),
    );
  }
  // The sim world's router holds publishes to the same rules as the embedded broker's auth (broker-auth.ts).
  if (router !== undefined)
    router.setPublishAuthorizer((clientId, topic) => {
      const reason = publishRefusal(simRoleOf(clientId), topic);
      if (reason !== undefined) history.append({ type: 'broker_refused', action: 'publish', clientId, topic, reason });
      return reason;
    });
  if (faults.network.slowSubscriber && broker?.kind === 'external') {
    const slow = await startSlowSubscriber(broker.url, history, { clock, ca: broker.ca });
    resources.cleanups.push(() => slow.stop());
  }

  // The pipeline reaches Postgres through a slow link when that fault is on.
  let pipelineDatabaseUrl = db.scratch.url;
  if (faults.server.slowDatabaseMs > 0 && drive !== undefined) {
    // The drive's world has no TCP between the pipeline and Postgres: the delay is virtual, in front of each
    // pipeline's lease of the gate (startPipelines).
    history.append({
      type: 'nemesis',
      fault: 'slow_database',
      target: 'gated database',
      detail: `${faults.server.slowDatabaseMs} ms (virtual) per statement`,
    });
  } else if (faults.server.slowDatabaseMs > 0) {
    const proxy = await startSlowDbProxy(db.scratch.url, faults.server.slowDatabaseMs, history, clock);
    pipelineDatabaseUrl = proxy.url;
    resources.cleanups.push(() => proxy.stop());
  }
  return {
    database: db,
    world: opened.world,
    broker,
    network,
    pipelineDatabaseUrl,
    afterCompletionCommit: { hook: undefined },
    afterChunkFlush: { hook: undefined },
  };
}

/** How many MQTT connections the run's pipeline opens (LiveRunOptions.workers). More than one needs shared
 *  subscriptions, which the embedded aedes and the sim router lack. */
export function pipelineConnections(options: LiveRunOptions, broker: Broker | undefined): number {
  const ownBroker = broker === undefined || isEmbeddedBroker(broker);
  const workers = options.workers ?? (ownBroker ? 1 : WORKERS_EXTERNAL_DEFAULT);
  const refusal = workersRefusal(workers, ownBroker);
  if (refusal !== undefined) throw new RunWorldError(refusal);
  return workers;
}

/** An instance's group: the run's, and with two instances at once (the fault, tags `1a`, `1b`) one each, as both
 *  must take every message. Restarts (tags `2`, `3`…) join the same group again. */
function sharedGroupOf(runGroup: string, instanceTag: string): string {
  const second = instanceTag.replace(/^\d+/, '');
  return second === '' ? runGroup : `${runGroup}-${second}`;
}

/**
 * The run's pipeline(s), started and ready: a PipelineSet (returned), or for `--pipeline external` the user's
 * service, started if given as a command and waited for until it subscribes (undefined: the run has no pipeline
 * of its own to restart or count).
 */
export async function startPipelines(
  run: RunContext,
  setup: RunSetup,
  resources: RunResources,
  externalEdge?: ExternalEdge,
): Promise<PipelineSet | undefined> {
  const { options, hooks, clock, drive, history } = run;
  const { broker, database: db, world } = setup;
  const faults = options.faults;
  // Not run.external: the comparison itself narrows options.pipeline to a pipeline profile below.
  if (options.pipeline === 'external') {
    // givenWorldProblem refused an external pipeline on a given world: the service needs a broker URL.
    if (broker === undefined) throw new RunWorldError('--pipeline external needs the broker the run opens');
    const brokerUrl = broker.url;
    hooks.onPhase?.(`external pipeline: broker ${redactUrl(brokerUrl)}, database ${redactUrl(db.scratch.url)}`);
    let commandExit: Promise<CommandExit> | undefined;
    if (options.externalCommand) {
      const service = startExternalCommand(
        options.externalCommand,
        { brokerUrl, databaseUrl: db.scratch.url },
        (line) => hooks.onPhase?.(line),
        clock,
      );
      resources.cleanups.push(() => service.stop());
      commandExit = service.exited;
    }
    if (broker.aedes) {
      hooks.onPhase?.('waiting for the external pipeline to subscribe to the device data topics');
      await waitForIngestionSubscriber(broker.aedes, externalSubscribeTimeoutMs, clock, commandExit).catch(
        (error: unknown) => {
          throw Object.assign(new Error(`--pipeline external: ${(error as Error).message}`), { exitCode: 2 });
        },
      );
    } else {
      await clock.sleep(3_000); // a real broker tells us nothing: give it time
    }
    return undefined;
  }
  const consumers = pipelineConnections(options, broker);
  // One group per run (per shard): another run's pipeline on the same broker never takes this run's messages.
  const sharedGroup =
    options.shard === undefined ? db.scratch.name : `${runGroup(options.shard.runId)}-${options.shard.index}`;
  const shared = consumers > 1;
  // A shard's pipeline serves its own slice of the fleet: the topics of its devices, not every device's. Served
  // from one group across shards, each image's chunks would land in every shard's process, whose chunk flushes then
  // queue on the same device_images rows (measured: 5 shards × 10,000 devices on this machine's Postgres stored
  // 5 % of the images in 7 minutes, the rest waiting on row locks and refused after their route wait).
  const shardSubscriptions = options.shard === undefined ? undefined : serverSubscriptionsFor(simulatedMacs(options));
  hooks.onPhase?.(
    shared
      ? `starting the ingestion pipeline (${consumers} connection${consumers === 1 ? '' : 's'} in shared subscription group ${sharedGroup})`
      : 'starting the ingestion pipeline',
  );
  drive?.start(); // the pipelines' start-up statements wait at the drive's gate
  const pipelines = new PipelineSet(
    (profile: PipelineProfile, instanceTag: string) =>
      startPipeline({
        // Named in the pipeline's log lines; the world's link is what connects.
        brokerUrl: broker?.url ?? world.brokerLabel,
        link: world.pipelineLink,
        databaseUrl: setup.pipelineDatabaseUrl,
        history,
        profile,
        instanceTag,
        // Two instances (the fault) each take every message: a group each.
        ...(shared ? { sharedGroup: sharedGroupOf(sharedGroup, instanceTag), consumers } : {}),
        ...(shardSubscriptions === undefined ? {} : { subscriptions: shardSubscriptions }),
        chunkTtlMs: legacyTtlMs(options.timeScale),
        ackNamesCapture: options.ackNamesCapture,
        clock,
        afterCompletionCommit: (committed) => setup.afterCompletionCommit.hook?.(committed) ?? Promise.resolve(),
        afterChunkFlush: (images) => setup.afterChunkFlush.hook?.(images),
        // legacy-two-writers forwarding to the user's handler: that handler is its edge function (webhook-setup.ts).
        ...(externalEdge === undefined ? {} : { externalEdge }),
        ...(drive === undefined
          ? {}
          : {
              database:
                faults.server.slowDatabaseMs > 0
                  ? slowDatabase(drive.pipelineDatabase(), clock, faults.server.slowDatabaseMs)
                  : drive.pipelineDatabase(),
              clientId: drive.pipelineClientId(instanceTag),
              // legacy-ttl's chunk age on the world's clock, as the drive stamps the chunks (world/sim/sim-now.ts).
              chunkAgeNow: 'clock' as const,
            }),
      }),
    options.pipeline,
    faults.server.twoInstances ? 2 : 1,
    drive?.pipelineRestartDownMs === undefined ? undefined : { downMs: drive.pipelineRestartDownMs, clock },
  );
  resources.pipelines = pipelines;
  await pipelines.start();
  // Both instances take every message: one re-announcement can be logged twice (the checker's I6 allows it).
  if (faults.server.twoInstances) history.append({ type: 'nemesis', fault: 'two_instances', target: 'pipeline' });
  return pipelines;
}
