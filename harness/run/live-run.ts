// One live run: world up (database at the pipeline stage, broker), reference pipeline, fleet; then a quiet
// period, the checker over the history and the database, and everything torn down again.
import { createRng } from '../../simulator/random/prng.ts';
import { checkInvariants, installProgressAudit, overallVerdict, type InvariantVerdict } from '../checker/index.ts';
import { Fleet } from '../fleet/fleet.ts';
import type { FleetCounters } from '../fleet/fleet-counters.ts';
import { History } from '../history/history.ts';
import { startPipeline, type Pipeline, type PipelineStats } from '../pipeline/index.ts';
import { openBroker, type Broker } from '../world/broker.ts';
import { openRunDatabase, type RunDatabase } from '../world/database.ts';
import type { LiveRunOptions } from './run-options.ts';

export interface RunProgress {
  readonly fleet: FleetCounters;
  readonly pipeline: PipelineStats | undefined;
  readonly elapsedMs: number;
}

export interface LiveRunResult {
  readonly verdict: 'pass' | 'fail' | 'unknown';
  readonly verdicts: readonly InvariantVerdict[];
  readonly aborted: boolean;
  readonly fleet: FleetCounters;
  readonly pipeline: PipelineStats;
  readonly wallMs: number;
  /** From the first wake to the last device done. */
  readonly fleetMs: number;
  readonly peakRssBytes: number;
  readonly brokerKind: Broker['kind'];
  readonly databaseKind: 'embedded' | 'external';
  readonly databaseName: string;
  readonly keptDatabaseUrl: string | undefined;
  readonly history: History;
}

export interface RunHooks {
  /** Start-up steps, for a "starting…" line. */
  onPhase?(phase: string): void;
  onProgress?(progress: RunProgress): void;
  progressIntervalMs?: number;
  /** Stops the run early (Ctrl-C): like an exhausted time budget, the verdict is then at best unknown. */
  signal?: AbortSignal;
}

export async function runLive(options: LiveRunOptions, hooks: RunHooks = {}): Promise<LiveRunResult> {
  const startedMs = Date.now();
  let peakRssBytes = process.memoryUsage().rss;
  const rssSampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss)), 100);
  rssSampler.unref();
  const history = new History();
  const rng = createRng(options.seed);
  let db: RunDatabase | undefined;
  let broker: Broker | undefined;
  let pipeline: Pipeline | undefined;
  let fleet: Fleet | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    hooks.onPhase?.('starting Postgres');
    db = await openRunDatabase({ databaseUrl: options.databaseUrl, stage: 'pipeline', purpose: 'simulate' });
    await installProgressAudit(db.pool);
    hooks.onPhase?.('starting the MQTT broker');
    broker = await openBroker({ url: options.brokerUrl });
    hooks.onPhase?.('starting the ingestion pipeline');
    pipeline = await startPipeline({ brokerUrl: broker.url, databaseUrl: db.scratch.url, history, profile: 'fixed' });
    const pool = db.pool;
    const budget = new AbortController();
    const budgetTimer = setTimeout(() => budget.abort(), Math.max(0, options.timeBudgetMs - (Date.now() - startedMs)));
    fleet = new Fleet({
      brokerUrl: broker.url,
      devices: options.devices,
      imagesPerDevice: options.imagesPerDevice,
      imageKbMean: options.imageKbMean,
      chunkBytes: options.chunkBytes,
      wakesMax: options.wakesMax,
      qos: options.qos,
      dialect: options.dialect,
      chunkIdBase: 0,
      rng: rng.fork('fleet'),
      history,
      timeScale: options.timeScale,
      realSleepMsMax: 2_000,
      staggerMs: Math.min(1_000, options.devices * 2),
      concurrencyMax: options.concurrencyMax,
      ackTimeoutMs: options.ackTimeoutMs,
      startClockMs: Date.UTC(2026, 0, 14, 6, 0, 0),
      signal: hooks.signal ? AbortSignal.any([budget.signal, hooks.signal]) : budget.signal,
      // The harness's own look at the database when an ACK_OK reaches a device (I7): is that capture stored?
      observeAck: async (mac, _imageName, sha256) => {
        const { rows } = await pool.query<{ ok: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM device_images di JOIN devices d ON d.device_id = di.device_id
                          JOIN image_blobs b ON b.image_id = di.image_id
                          WHERE d.device_mac = $1 AND di.status = 'complete' AND b.sha256 = $2) AS ok`,
          [mac, sha256],
        );
        return rows[0]?.ok ?? false;
      },
    });
    const fleetRef = fleet;
    const pipelineRef = pipeline;
    const fleetStartMs = Date.now();
    progressTimer = setInterval(
      () =>
        hooks.onProgress?.({
          fleet: fleetRef.counters,
          pipeline: pipelineRef.stats(),
          elapsedMs: Date.now() - startedMs,
        }),
      hooks.progressIntervalMs ?? 250,
    );
    history.append({ type: 'run_phase', phase: 'start' });
    const outcome = await fleet.run();
    const fleetMs = Date.now() - fleetStartMs;
    clearTimeout(budgetTimer);
    clearInterval(progressTimer);
    hooks.onProgress?.({ fleet: fleet.counters, pipeline: pipeline.stats(), elapsedMs: Date.now() - startedMs });

    history.append({ type: 'run_phase', phase: 'quiet' });
    hooks.onPhase?.('quiet period');
    await fleet.shutdown();
    await pipeline.idle();
    await new Promise((resolve) => setTimeout(resolve, options.quietMs));
    await pipeline.idle();

    history.append({ type: 'run_phase', phase: 'check' });
    hooks.onPhase?.('checking invariants');
    let verdicts = await checkInvariants(db.pool, history.events);
    if (outcome.aborted) {
      // A run cut short by its time budget proves nothing about liveness.
      verdicts = verdicts.map((v) =>
        v.id === 'I5' && v.verdict === 'fail'
          ? { ...v, verdict: 'unknown', summary: `run stopped before the fleet finished; ${v.summary}` }
          : v,
      );
    }
    history.append({ type: 'run_phase', phase: 'end' });
    const verdict = outcome.aborted && overallVerdict(verdicts) === 'pass' ? 'unknown' : overallVerdict(verdicts);
    return {
      verdict,
      verdicts,
      aborted: outcome.aborted,
      fleet: fleet.counters,
      pipeline: pipeline.stats(),
      wallMs: Date.now() - startedMs,
      fleetMs,
      peakRssBytes,
      brokerKind: broker.kind,
      databaseKind: db.server.kind,
      databaseName: db.scratch.name,
      keptDatabaseUrl: options.keepDatabase && db.server.kind === 'external' ? db.scratch.url : undefined,
      history,
    };
  } finally {
    clearInterval(rssSampler);
    if (progressTimer) clearInterval(progressTimer);
    await fleet?.shutdown().catch(() => {});
    await pipeline?.stop().catch(() => {});
    await broker?.stop().catch(() => {});
    await db?.close({ keep: options.keepDatabase && db.server.kind === 'external' }).catch(() => {});
    await history.close();
  }
}
