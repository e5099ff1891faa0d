// The reference ingestion pipeline (the system under test): see README.md.
import { resolveOptions, type PipelineOptions } from './options.ts';
import { PipelineService } from './pipeline.ts';
import type { PipelineStats } from './stats.ts';
import { createPgDatabase } from '../world/live/pg-database.ts';
import { errorText } from './store/pool.ts';
import { checkPipelineSchema } from './store/schema-check.ts';

export type { CommittedImage, FlushedImage, PipelineOptions, PipelineProfile } from './options.ts';
export type { PipelineStats } from './stats.ts';
export type { PipelineRejectCode } from './pipeline.ts';
export { PipelineUsageError, PIPELINE_DEFAULTS, pipelineProfiles, isPipelineProfile } from './options.ts';

export interface Pipeline {
  stats(): PipelineStats;
  /** Received work has piled up unwritten: whoever feeds it (a run's fleet) should wait before sending more. */
  behind(): boolean;
  /** Resolves when every received message has been fully processed and written. */
  idle(): Promise<void>;
  /** Unsubscribe, finish in-flight work (drain), flush, close MQTT and pg. */
  stop(): Promise<void>;
  /**
   * A crash, for fault injection: stops at once WITHOUT draining or flushing — buffered chunks and every in-memory
   * state are lost, the MQTT socket is cut (no DISCONNECT) and the database connections are closed under their
   * queries. A new startPipeline() on the same database recovers what is durable (for `fixed`: the chunk store and
   * the routes in image_transfers, so transfers resume). stop() after crash() resolves at once.
   */
  crash(): Promise<void>;
}

/**
 * Connects to Postgres and the broker, subscribes to both dialects' device topics, and serves until stop() or
 * crash(). Profile `fixed` needs schema stage 'pipeline'; the legacy profiles need only the base tables plus
 * schema/004_pipeline.sql (they reproduce the service as it ran before the migration). Throws PipelineUsageError
 * (exitCode 2) for bad options or a database without what the profile needs, and an Error naming the broker when
 * it cannot connect.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const o = resolveOptions(options);
  const pool =
    o.database ??
    createPgDatabase({
      url: o.databaseUrl,
      max: o.poolMax,
      applicationName: o.clientId,
      onIdleError: (error) => o.log(`pipeline: idle database connection failed: ${errorText(error)}`),
      clock: o.clock,
    });
  let service: PipelineService | undefined;
  try {
    const schema = await checkPipelineSchema(pool, o.profile);
    service = new PipelineService(o, pool, schema);
    await service.connect();
  } catch (error) {
    if (service !== undefined) await service.stop().catch(() => {});
    else await pool.end().catch(() => {});
    throw error;
  }
  const s = service;
  return {
    stats: () => s.stats(),
    behind: () => s.behind(),
    idle: () => s.idle(),
    stop: () => s.stop(),
    crash: () => s.crash(),
  };
}
