// Live counters of a fleet run, read by the progress display and the summary.
export interface FleetCounters {
  devicesAwake: number;
  devicesDone: number;
  captured: number;
  /** Chunks of every image captured (each counted once): the true total of the "chunks stored" bar. */
  chunksCaptured: number;
  /** Images the device removed from its queue after ACK_OK. */
  acked: number;
  chunksSent: number;
  /** Chunks sent again for the same capture (missing_chunks answers, silence retries, resume). */
  chunksResent: number;
  gaveUp: number;
  /** Device faults injected (`nemesis` events of the device side). */
  faultsInjected: number;
  /** Captures lost to a torn SD-queue write (never sent; `device_lost_capture` events). */
  capturesLost: number;
  /** Times the fleet began holding wakes because the pipeline was behind (FleetOptions.wakesHeld). */
  pipelineHolds: number;
}

export function newFleetCounters(): FleetCounters {
  return {
    devicesAwake: 0,
    devicesDone: 0,
    captured: 0,
    chunksCaptured: 0,
    acked: 0,
    chunksSent: 0,
    chunksResent: 0,
    gaveUp: 0,
    faultsInjected: 0,
    capturesLost: 0,
    pipelineHolds: 0,
  };
}
