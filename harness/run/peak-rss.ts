// The run's peak resident memory, sampled every 100 ms of wall time: it measures this process, not the world, so
// it runs on a Node timer whatever the run's clock (and is unref'd so it never holds the process up).

export interface PeakRss {
  readonly peakBytes: number;
  stop(): void;
}

export function startPeakRss(): PeakRss {
  let peakBytes = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, process.memoryUsage().rss)), 100);
  sampler.unref();
  return {
    get peakBytes() {
      return peakBytes;
    },
    stop: () => clearInterval(sampler),
  };
}
