// Path options are checked before anything starts (no server, no temp directory): a path that cannot be used is a
// usage error (exit 2) in one line naming the option and the path, not a stream 'error' halfway through a run.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Thrown by the checks below; yargs' `.check` turns it into the one-line usage error. */
export class PathOptionError extends Error {
  readonly exitCode = 2;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A file the run will create or overwrite (`--history`): not a directory, in a directory that exists and is writable. */
export function checkWritableFile(flag: string, path: string): void {
  const fail = (why: string): never => {
    throw new PathOptionError(`--${flag} ${path}: ${why}`);
  };
  if (path === '') fail('needs a file name');
  const stats = statOrUndefined(path);
  if (stats?.isDirectory()) fail('is a directory (give a file name)');
  const parent = dirname(resolve(path));
  const parentStats = statOrUndefined(parent);
  if (!parentStats) fail(`no such directory ${parent}`);
  if (!parentStats?.isDirectory()) fail(`${parent} is not a directory`);
  if (stats ? !writable(path) : !writable(parent)) fail(`not writable`);
}

/** A directory the run will create if needed (`--report`): it or its nearest existing ancestor is a writable directory. */
export function checkCreatableDirectory(flag: string, path: string): void {
  const fail = (why: string): never => {
    throw new PathOptionError(`--${flag} ${path}: ${why}`);
  };
  if (path === '') fail('needs a directory name');
  let at = resolve(path);
  for (;;) {
    const stats = statOrUndefined(at);
    if (stats) {
      if (!stats.isDirectory()) fail(at === resolve(path) ? 'is a file, not a directory' : `${at} is not a directory`);
      if (!writable(at)) fail(`${at} is not writable`);
      return;
    }
    const parent = dirname(at);
    if (parent === at) fail('cannot be created');
    at = parent;
  }
}

/** A file that must exist and be readable (`--file`). */
export function checkReadableFile(flag: string, path: string): void {
  const stats = statOrUndefined(path);
  if (!stats) throw new PathOptionError(`--${flag} ${path}: no such file`);
  if (stats.isDirectory()) throw new PathOptionError(`--${flag} ${path}: is a directory (give a file)`);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new PathOptionError(`--${flag} ${path}: not readable`);
  }
}

/** `--replay`: a bundle's folder or its bundle.json; returns the folder. */
export function checkBundlePath(flag: string, path: string): string {
  const stats = statOrUndefined(path);
  if (!stats) throw new PathOptionError(`--${flag} ${path}: no such bundle (give its folder or its bundle.json)`);
  if (stats.isDirectory()) {
    if (!statOrUndefined(join(path, 'bundle.json'))?.isFile())
      throw new PathOptionError(`--${flag} ${path}: no bundle.json in this folder`);
    return path;
  }
  if (basename(path) !== 'bundle.json')
    throw new PathOptionError(`--${flag} ${path}: not a bundle (give its folder or its bundle.json)`);
  return dirname(path);
}
