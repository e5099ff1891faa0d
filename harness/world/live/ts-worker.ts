// A worker thread running one of our TypeScript modules, as the main thread runs them (tsx), under `npm run`,
// vitest and plain `node --import tsx` alike (ts-worker-bootstrap.mjs says why a bootstrap is needed).
import { Worker } from 'node:worker_threads';

/** Starts `entry` (a .ts module's URL) on a new thread; `data` reaches it as workerData. */
export function spawnTsWorker(entry: URL, data: unknown): Worker {
  return new Worker(new URL('./ts-worker-bootstrap.mjs', import.meta.url), { workerData: data, argv: [entry.href] });
}
