// A worker thread running one of our modules, as the main thread runs them: from the TypeScript sources through tsx
// (under `npm run`, vitest and plain `node --import tsx` alike; ts-worker-bootstrap.mjs says why a bootstrap is
// needed), or, in the built package (dist/, no tsx), the compiled JavaScript twin of the same module directly.
import { Worker } from 'node:worker_threads';

/** Whether this module runs compiled (dist/*.js) rather than from its TypeScript source. */
const compiled = import.meta.url.endsWith('.js');

/** The module to run for `entry` (named by its .ts source): its .js twin when running compiled. */
export function workerEntry(entry: URL, runningCompiled: boolean = compiled): URL {
  if (!runningCompiled || !entry.pathname.endsWith('.ts')) return entry;
  const twin = new URL(entry.href);
  twin.pathname = entry.pathname.replace(/\.ts$/, '.js');
  return twin;
}

/** Starts `entry` (a module's URL, named by its .ts source) on a new thread; `data` reaches it as workerData. */
export function spawnTsWorker(entry: URL, data: unknown): Worker {
  if (compiled) return new Worker(workerEntry(entry), { workerData: data });
  return new Worker(new URL('./ts-worker-bootstrap.mjs', import.meta.url), { workerData: data, argv: [entry.href] });
}
