// One sim run in a process of its own, for the cross-process determinism check (sim-run.test.ts): the same seed in
// two processes must give the same history file. Prints one JSON line: the history's sha256, the verdict, counts.
// Usage: node --import tsx harness/run/sim-run-child.ts <seed> <databaseUrl> <historyPath> [optionsJson]
// `optionsJson`: run options over the small run's (e.g. another fleet and a fault plan: sim-network.test.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LiveRunOptions } from './run-options.ts';
import { simSmallRun } from './sim-run-fixture.ts';
import { runSim } from './sim-run.ts';

const [seedText, databaseUrl, historyPath, optionsJson] = process.argv.slice(2);
if (seedText === undefined || databaseUrl === undefined || historyPath === undefined) {
  process.stderr.write('usage: sim-run-child.ts <seed> <databaseUrl> <historyPath> [optionsJson]\n');
  process.exit(2);
}
const over = optionsJson === undefined ? {} : (JSON.parse(optionsJson) as Partial<LiveRunOptions>);
const result = await runSim({ ...simSmallRun, ...over, seed: Number(seedText), databaseUrl, historyPath });
const sha256 = createHash('sha256').update(readFileSync(historyPath)).digest('hex');
process.stdout.write(
  JSON.stringify({ sha256, verdict: result.verdict, events: result.history.events.length, ...result.schedule }) + '\n',
);
