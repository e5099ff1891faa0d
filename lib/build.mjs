#!/usr/bin/env node
// `npm run build` (and `npm pack`, through prepack): the package's JavaScript and declarations in dist/ (tsc with
// tsconfig.build.json: each `.ts` import rewritten to `.js`), and beside them the files the code reads at run time
// by their path next to its module — migrations, the checker's SQL, the scenario catalogue and regressions, report.html's script and styles, the example webhook handler the webhook scenarios start. The
// declarations name pg's and yargs' types, which is why @types/pg and @types/yargs are dependencies.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Folders (from the root) and the file endings whose files are copied into dist/ at the same place. */
const assets = [
  ['schema', '.sql'],
  ['harness/checker', '.sql'],
  ['scenarios/catalogue', '.json'],
  ['scenarios/regressions', '.json'],
  ['harness/report/page', '.js'],
  ['harness/report/page', '.css'],
  // The catalogue's webhook scenarios start this handler from the package root (scenarios/to-run-options.ts).
  ['examples/webhook-handler', '.mjs'],
];

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
let copied = 0;
for (const [folder, ending] of assets) {
  mkdirSync(join(dist, folder), { recursive: true });
  for (const file of readdirSync(join(root, folder)).filter((f) => f.endsWith(ending))) {
    cpSync(join(root, folder, file), join(dist, folder, file));
    copied += 1;
  }
}
process.stdout.write(`build: dist/ written (${copied} data files copied beside the code)\n`);
