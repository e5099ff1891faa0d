#!/usr/bin/env node
// `camfleet <command>`: dispatches to the TypeScript CLIs through tsx, so the package runs without a build step.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commands = { migrate: 'migrate.ts', simulate: 'simulate.ts', pipeline: 'pipeline.ts', scenario: 'scenario.ts' };
const [command, ...rest] = process.argv.slice(2);
const file = command ? commands[command] : undefined;
if (!file) {
  console.error(`usage: camfleet <${Object.keys(commands).join('|')}> [options]   (each has --help)`);
  process.exit(2);
}
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const result = spawnSync(tsx, [join(root, 'harness', 'cli', file), ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 2);
