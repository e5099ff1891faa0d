// Open files: every awake device holds a socket (two in this process with the embedded broker: the device's and
// the broker's end), and the process may hold at most its RLIMIT_NOFILE (Node raises the soft limit to the hard one
// at start). `--concurrency 10000` on a machine whose limit is 20,000 would otherwise die of EMFILE part-way; the
// run caps the devices awake at once instead, and says so.
import { readFileSync } from 'node:fs';

/** Descriptors kept for everything else: Postgres pools, the pipeline's connections, the servers, files. */
export const FDS_RESERVED = 500;

/** This process's open-files limit (Linux /proc), or undefined where it cannot be read. */
export function openFilesLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | undefined {
  try {
    const line = read()
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const n = Number(soft);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The devices that may be awake at once within `limit` descriptors, and why fewer than asked, if so. */
export function concurrencyWithinFds(
  requested: number,
  fdsPerDevice: number,
  limit: number | undefined,
): { readonly concurrency: number; readonly capped?: string } {
  if (limit === undefined) return { concurrency: requested };
  const fit = Math.max(1, Math.floor((limit - FDS_RESERVED) / fdsPerDevice));
  if (requested <= fit) return { concurrency: requested };
  return {
    concurrency: fit,
    capped:
      `devices awake at once capped at ${fit} (asked ${requested}): this process may open ${limit} files and each awake ` +
      `device holds ${fdsPerDevice === 1 ? 'a socket' : `${fdsPerDevice} sockets`}${fdsPerDevice > 1 ? " with the embedded broker (its end and the device's)" : ''}; raise \`ulimit -n\` for more`,
  };
}
