// A worker thread's entry: registers tsx in this thread (Node 20 does not pass a parent's `--import tsx` loader
// hooks on to its workers) and imports the TypeScript module whose URL ts-worker.ts passed as its argument.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const entry = process.argv[2];
if (entry === undefined) throw new Error('ts-worker-bootstrap.mjs: no module to run');
await import(entry);
