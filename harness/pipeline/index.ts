// The reference ingestion pipeline (the system under test): see README.md.
import { resolveOptions, type PipelineOptions } from './options.ts';
import { PipelineService } from './pipeline.ts';
import type { PipelineStats } from './stats.ts';
import { createPool } from './store/pool.ts';
import { checkPipelineSchema } from './store/schema-check.ts';

export type { PipelineOptions, PipelineProfile } from './options.ts';
export type { PipelineStats } from './stats.ts';
export type { PipelineRejectCode } from './pipeline.ts';
export { PipelineUsageError, PIPELINE_DEFAULTS } from './options.ts';

export interface Pipeline {
  stats(): PipelineStats;
  /** Resolves when every received message has been fully processed and written. */
  idle(): Promise<void>;
  /** Unsubscribe, finish in-flight work (drain), flush, close MQTT and pg. */
  stop(): Promise<void>;
}

/**
 * Connects to Postgres (which must be at schema stage 'pipeline') and the broker, subscribes to both dialects'
 * device topics, and serves until stop(). Throws PipelineUsageError (exitCode 2) for bad options or a database at
 * the wrong stage, and an Error naming the broker when it cannot connect.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const o = resolveOptions(options);
  const pool = createPool(o.databaseUrl, o.poolMax, o.log);
  let service: PipelineService | undefined;
  try {
    await checkPipelineSchema(pool);
    service = new PipelineService(o, pool);
    await service.connect();
  } catch (error) {
    if (service !== undefined) await service.stop().catch(() => {});
    else await pool.end().catch(() => {});
    throw error;
  }
  const s = service;
  return { stats: () => s.stats(), idle: () => s.idle(), stop: () => s.stop() };
}
