// Progress on long work: cli-progress bars on a terminal; on anything else (CI logs), a plain line every few
// seconds so the log shows the run is alive without drowning in redraws.
import cliProgress from 'cli-progress';
import type { RunProgress } from '../run/live-run.ts';

export interface ProgressDisplay {
  update(progress: RunProgress): void;
  stop(): void;
}

export function createProgressDisplay(options: {
  devices: number;
  quiet: boolean;
  stream: NodeJS.WriteStream;
}): ProgressDisplay {
  if (options.quiet) return { update: () => {}, stop: () => {} };
  const rate = chunkRate();
  if (!options.stream.isTTY) {
    let lastPrintMs = 0;
    return {
      update(p) {
        const perSecond = rate(p);
        if (p.elapsedMs - lastPrintMs < 3_000) return;
        lastPrintMs = p.elapsedMs;
        options.stream.write(
          `[${(p.elapsedMs / 1000).toFixed(1)}s] devices awake ${p.fleet.devicesAwake}, done ${p.fleet.devicesDone}/${options.devices}; ` +
            `images complete ${p.fleet.acked}/${p.fleet.captured}; chunks ${p.fleet.chunksSent} sent, ` +
            `${p.pipeline?.chunksStored ?? 0} stored (${Math.round(perSecond)}/s)\n`,
        );
      },
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      clearOnComplete: false,
      hideCursor: true,
      stream: options.stream,
      format: ' {label} |{bar}| {value}/{total} {extra}',
    },
    cliProgress.Presets.shades_classic,
  );
  const devices = multi.create(options.devices, 0, { label: 'devices done   ', extra: '' });
  const images = multi.create(1, 0, { label: 'images complete', extra: '' });
  const chunks = multi.create(1, 0, { label: 'chunks stored  ', extra: '' });
  return {
    update(p) {
      const perSecond = rate(p);
      devices.update(p.fleet.devicesDone, { extra: `(${p.fleet.devicesAwake} awake)` });
      images.setTotal(Math.max(1, p.fleet.captured));
      images.update(p.fleet.acked, { extra: 'of captured' });
      chunks.setTotal(Math.max(1, p.fleet.chunksSent));
      chunks.update(p.pipeline?.chunksStored ?? 0, { extra: `${Math.round(perSecond)} chunks/s` });
    },
    stop: () => multi.stop(),
  };
}

/** Chunks stored per second over the last second or so. */
function chunkRate(): (p: RunProgress) => number {
  let last = { atMs: 0, stored: 0 };
  let current = 0;
  return (p) => {
    const stored = p.pipeline?.chunksStored ?? 0;
    if (p.elapsedMs - last.atMs >= 1_000) {
      current = ((stored - last.stored) * 1000) / Math.max(1, p.elapsedMs - last.atMs);
      last = { atMs: p.elapsedMs, stored };
    }
    return current;
  };
}
