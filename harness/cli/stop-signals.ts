// How a camfleet command learns that it should stop: SIGINT, SIGTERM, or its parent process going away.
//
// Verified here (Node 20.20, npm 11.19, Debian's /bin/sh = dash 0.5.12), see harness/cli/README.md:
// - A terminal's Ctrl-C sends SIGINT to the whole foreground process group; npm also relays SIGINT/SIGTERM to its
//   child (@npmcli/run-script's signal-manager). So with `exec node …` as the npm script (package.json), one
//   Ctrl-C or one `kill -TERM -<group>` reaches this process twice, a millisecond apart. Counting that as "a second
//   Ctrl-C, exit at once" skipped the summary, the bundle and the cleanup: repeats within `repeatWindowMs` of the
//   first signal are the same request, delivered by several layers. Only a later one is a genuine second request.
// - dash does not exec the script's single command: without `exec` in the npm script, `kill <npm pid>` reaches
//   `sh -c`, which dies of it and leaves node running with parent 1. `exec` removes that layer; the parent watchdog
//   below covers any layer that still dies first (npm killed with SIGKILL, a wrapper we did not foresee), so a
//   service never outlives the command that started it.

/** Why the command is stopping: a signal, or its parent process went away (behaves as SIGTERM). */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'parent exited';

export interface SignalState {
  /** When the first stop signal arrived, in ms on the caller's clock; absent while not stopping. */
  readonly firstSignalAtMs: number | undefined;
}

export type SignalDecision = 'stop' | 'repeat' | 'force';

/**
 * The pure core: the first signal stops gracefully; one arriving within `repeatWindowMs` of it is the same request
 * relayed by another layer (ignored); a later one is the user insisting (exit at once).
 */
export function decideSignal(
  state: SignalState,
  nowMs: number,
  repeatWindowMs: number,
): { state: SignalState; decision: SignalDecision } {
  if (state.firstSignalAtMs === undefined) return { state: { firstSignalAtMs: nowMs }, decision: 'stop' };
  return { state, decision: nowMs - state.firstSignalAtMs <= repeatWindowMs ? 'repeat' : 'force' };
}

/** Relays arrive within a millisecond or two here; a second deliberate Ctrl-C takes a person far longer. */
export const repeatWindowMs = 1000;
/** How often the watchdog looks at process.ppid (a cheap property read). */
export const parentPollMs = 250;

const signalExitCodes = { SIGINT: 130, SIGTERM: 143 } as const;

export interface StopHandlers {
  /** Called once: stop gracefully (finish, report, clean up) and exit with the documented code. */
  stop(reason: StopReason): void;
  /** A genuine second signal: exit at once (default: 128 + signal number; the exit hook still stops Postgres). */
  force?(signal: 'SIGINT' | 'SIGTERM'): void;
}

/** Installs the SIGINT/SIGTERM handlers and the parent watchdog; returns a function that removes them. */
export function onStopRequest(handlers: StopHandlers, now: () => number = Date.now): () => void {
  let state: SignalState = { firstSignalAtMs: undefined };
  const force =
    handlers.force?.bind(handlers) ?? ((signal: 'SIGINT' | 'SIGTERM') => process.exit(signalExitCodes[signal]));
  const request = (reason: StopReason) => {
    const next = decideSignal(state, now(), repeatWindowMs);
    state = next.state;
    if (next.decision === 'stop') handlers.stop(reason);
    else if (next.decision === 'force' && reason !== 'parent exited') force(reason);
  };
  const onSigint = () => request('SIGINT');
  const onSigterm = () => request('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const parentPid = process.ppid;
  const watchdog = setInterval(() => {
    // Re-parented (to 1 or a subreaper): whoever started us is gone and nobody will forward a signal.
    if (process.ppid !== parentPid) {
      clearInterval(watchdog);
      request('parent exited');
    }
  }, parentPollMs);
  watchdog.unref(); // never the reason the process stays alive
  return () => {
    clearInterval(watchdog);
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
  };
}
