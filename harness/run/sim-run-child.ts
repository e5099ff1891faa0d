// One sim run in a process of its own, for the cross-process determinism check (sim-run.test.ts): the same seed in
// two processes must give the same history file. Prints one JSON line: the history's sha256, the verdict, counts.
// Usage: node --import tsx harness/run/sim-run-child.ts <seed> <databaseUrl> <historyPath> [<pipelineRestartAt,…>]
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { simRestartRun, simSmallRun } from './sim-run-fixture.ts';
import { runSim } from './sim-run.ts';

const [seedText, databaseUrl, historyPath, restartAt] = process.argv.slice(2);
if (seedText === undefined || databaseUrl === undefined || historyPath === undefined) {
  process.stderr.write('usage: sim-run-child.ts <seed> <databaseUrl> <historyPath> [<pipelineRestartAt,…>]\n');
  process.exit(2);
}
const result = await runSim({
  ...simRestartRun(simSmallRun, restartAt),
  seed: Number(seedText),
  databaseUrl,
  historyPath,
});
const sha256 = createHash('sha256').update(readFileSync(historyPath)).digest('hex');
process.stdout.write(
  JSON.stringify({ sha256, verdict: result.verdict, events: result.history.events.length, ...result.schedule }) + '\n',
);
