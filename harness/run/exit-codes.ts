// Exit codes every camfleet command shares (ARCHITECTURE.md §6): a run's verdict (or a scenario's outcome) as a
// process exit code, and an error as code + message. Here, below the commands, because the layers they call throw
// errors that choose their code (a bad spec or bundle is a usage error) and a scenario's report quotes the message.
import { redactText } from '../world/redact.ts';

/**
 * 4 (`replayDiverged`): `simulate --replay` of a sim bundle whose run did not come back byte for byte (failing
 * invariants, schedule digest or history differ, replay-check.ts). A finding of its own — determinism lost, or the
 * code changed since the bundle was written — so it is none of 1 (the verdict may well fail again), 2 (nothing was
 * wrong with the command) or 3 (the run was judged); it takes precedence over the replay's verdict.
 */
export const exitCodes = { pass: 0, violated: 1, usage: 2, unknown: 3, replayDiverged: 4 } as const;
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** Something wrong with what was asked (an option, a path, a combination): exit 2, one line saying what. */
export class UsageError extends Error {
  readonly exitCode = exitCodes.usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Maps an error to its exit code and one line for stderr; errors that carry `exitCode` choose their own. */
export function describeFailure(error: unknown): { exitCode: number; message: string } {
  if (error instanceof Error) {
    const own = (error as { exitCode?: unknown }).exitCode;
    const hint = (error as { hint?: unknown }).hint;
    // pg and mqtt.js errors, and ours, may quote a URL with its password: never print one.
    const message = redactText(`error: ${error.message}${typeof hint === 'string' && hint ? `\nhint: ${hint}` : ''}`);
    return { exitCode: typeof own === 'number' ? own : exitCodes.usage, message };
  }
  return { exitCode: exitCodes.usage, message: redactText(`error: ${String(error)}`) };
}
