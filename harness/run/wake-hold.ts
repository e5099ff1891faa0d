// Back-pressure from the pipeline to the fleet (issue 10: "10,000 devices awake at once works"). MQTT has none end
// to end: a broker acknowledges a device's publish whether or not anyone has read it, so a fleet woken faster than
// its pipeline reads buries it — measured with 10,000 devices awake at once on Mosquitto: every device waited out
// its ACK timeout and sent its image again, 2.8 million chunks sent for 705,000 captured. A real fleet's wakes are
// spread over hours; the simulated one's are compressed, so the run itself holds further wakes while the pipeline
// is behind: its own backlog (Pipeline.behind) or chunks the devices published that it has not yet read.
import type { FleetCounters } from '../fleet/fleet-counters.ts';
import type { PipelineStats } from '../pipeline/index.ts';

/** Chunks published and not yet read by the pipeline above which no more devices wake (~2 s of its reading). */
export const BACKLOG_CHUNKS_HIGH = 20_000;
/** A backlog the pipeline has not read from for this long is not work waiting but messages lost on the way (a
 *  dropped delivery): it holds nothing, or the fleet would wait for it forever. */
export const BACKLOG_STALE_MS = 1_000;

export interface WakeHoldSources {
  readonly fleet: () => FleetCounters;
  readonly pipeline: () => Pick<PipelineStats, 'chunksReceived'>;
  /** The pipeline's own backlog of work read and not yet written (PipelineSet.behind). */
  readonly pipelineBehind: () => boolean;
  readonly nowMs: () => number;
}

/** The run's `wakesHeld`: true while the pipeline is behind. Pure but for the sources it reads. */
export function pipelineBackPressure(sources: WakeHoldSources): () => boolean {
  let lastReceived = -1;
  let movedMs = sources.nowMs();
  return () => {
    if (sources.pipelineBehind()) return true;
    const received = sources.pipeline().chunksReceived;
    const now = sources.nowMs();
    if (received !== lastReceived) {
      lastReceived = received;
      movedMs = now;
    }
    const backlog = sources.fleet().chunksSent - received;
    return backlog > BACKLOG_CHUNKS_HIGH && now - movedMs < BACKLOG_STALE_MS;
  };
}
