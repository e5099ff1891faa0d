// Linux process facts for tests that signal real process trees: children, process group, alive — read from /proc.
import { readdirSync, readFileSync } from 'node:fs';

/** Direct children of `pid` (every thread's list; empty once the process is gone). */
export function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

export function descendantPids(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...descendantPids(child)]);
}

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session. */
function stat(pid: number): { state: string; pgrp: number; comm: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const [state = '', , pgrp = ''] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp), comm };
  } catch {
    return undefined;
  }
}

export const processGroupOf = (pid: number): number | undefined => stat(pid)?.pgrp;
export const commandNameOf = (pid: number): string | undefined => stat(pid)?.comm;

/** A zombie (exited, not yet reaped) counts as gone: it runs nothing and holds no port or file. */
export function isRunning(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** The pids of `pids` still running after waiting up to `timeoutMs` for them to end (an empty list: all gone). */
export async function waitUntilGone(pids: readonly number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(isRunning);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
