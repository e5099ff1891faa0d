// Progress on long work: cli-progress bars on a terminal; on anything else (CI logs), a plain line every few
// seconds so the log shows the run is alive without drowning in redraws.
import cliProgress from 'cli-progress';
import type { RunProgress } from '../run/live-run.ts';
import { barTotals, describeActivity } from './activity.ts';

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
  const stall = storedUnchanged();
  if (!options.stream.isTTY) {
    let lastPrintMs = 0;
    let lastActivity = '';
    return {
      update(p) {
        const perSecond = rate(p);
        const activity = describeActivity(p, stall(p));
        // Every 3 s, and at once when what the run waits for changes (a restart begins, a stall starts).
        if (p.elapsedMs - lastPrintMs < 3_000 && activity === lastActivity) return;
        lastPrintMs = p.elapsedMs;
        lastActivity = activity;
        const totals = barTotals(p);
        options.stream.write(
          `[${(p.elapsedMs / 1000).toFixed(1)}s] devices awake ${p.fleet.devicesAwake}, done ${p.fleet.devicesDone}/${options.devices}; ` +
            `images complete ${p.fleet.acked}/${totals.images}; chunks ${p.pipeline?.chunksStored ?? 0}/${totals.chunks} stored ` +
            `(${Math.round(perSecond)}/s), ${p.fleet.chunksSent} sent${activity ? `; ${activity}` : ''}\n`,
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
      const activity = describeActivity(p, stall(p));
      const totals = barTotals(p);
      devices.update(p.fleet.devicesDone, {
        extra: `(${p.fleet.devicesAwake} awake)${activity ? `  ${activity}` : ''}`,
      });
      images.setTotal(Math.max(1, totals.images));
      images.update(p.fleet.acked, { extra: 'of captured' });
      chunks.setTotal(Math.max(1, totals.chunks));
      chunks.update(p.pipeline?.chunksStored ?? 0, {
        extra: `${Math.round(perSecond)} chunks/s (${p.fleet.chunksSent} sent)`,
      });
    },
    stop: () => multi.stop(),
  };
}

/** How long the stored-chunk count has not moved, in ms of the run. */
function storedUnchanged(): (p: RunProgress) => number {
  let stored = -1;
  let sinceMs = 0;
  return (p) => {
    const now = p.pipeline?.chunksStored ?? p.fleet.chunksSent;
    if (now !== stored) {
      stored = now;
      sinceMs = p.elapsedMs;
    }
    return p.elapsedMs - sinceMs;
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
