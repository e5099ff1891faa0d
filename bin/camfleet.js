#!/usr/bin/env node
// `camfleet <command>`: in a clone, the command's TypeScript source through tsx (a devDependency), so a dist/ left by
// an earlier build never runs stale code; in the installed package (no sources), its built JavaScript.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commands = {
  simulate: 'run a fleet against the pipeline and prove the invariants',
  scenario: 'list and run the scenario catalogue',
  explore: 'property-based exploration in sim mode, shrunk to a scenario file',
  check: 'prove the invariants over a run spread over shards',
  pipeline: 'the reference ingestion pipeline as a service',
  migrate: 'apply the schema stages to a database',
};
const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || !(command in commands)) {
  const lines = Object.entries(commands).map(([name, what]) => `  ${name.padEnd(9)} ${what}`);
  const unknown = command !== undefined && command !== '--help' && command !== '-h';
  (unknown ? console.error : console.log)(
    `${unknown ? `error: no command "${command}"\n` : ''}usage: camfleet <command> [options]   (each command has --help)\n${lines.join('\n')}`,
  );
  process.exit(unknown || command === undefined ? 2 : 0);
}
const source = join(root, 'harness', 'cli', `${command}.ts`);
const child = existsSync(source)
  ? spawn(join(root, 'node_modules', '.bin', 'tsx'), [source, ...rest], { stdio: 'inherit' })
  : spawn(process.execPath, [join(root, 'dist', 'harness', 'cli', `${command}.js`), ...rest], { stdio: 'inherit' });
// A signal sent to this process alone (kill <pid>) reaches the command too, as npm relays one: the command drains
// and exits on its own (it knows a relayed Ctrl-C from a second one).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  console.error(`error: could not start ${command}: ${error.message}`);
  process.exit(2);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
