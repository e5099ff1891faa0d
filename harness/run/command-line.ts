// How a user runs a camfleet command where this code runs, for every command line camfleet prints (a replay, a
// reproduce line, --help): from a clone, `npm run simulate --`; from the installed package (compiled JavaScript in
// dist/, where the clone's npm scripts do not exist), `npx camfleet simulate`.
export type CommandName = 'simulate' | 'scenario' | 'explore' | 'check' | 'pipeline' | 'migrate';

/** This module runs compiled (dist/…/command-line.js) rather than from its TypeScript source. */
const compiled = import.meta.url.endsWith('.js');

export function commandFor(name: CommandName, runningCompiled: boolean = compiled): string {
  return runningCompiled ? `npx camfleet ${name}` : `npm run ${name} --`;
}
