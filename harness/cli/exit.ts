import type { Argv } from 'yargs';
import { redactText } from '../world/redact.ts';
// Exit codes every camfleet command shares (ARCHITECTURE.md §6).
export const exitCodes = { pass: 0, violated: 1, usage: 2, unknown: 3 } as const;

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

/**
 * yargs' failure handler for every camfleet command: one line saying what is wrong and where to look, exit 2.
 * Errors thrown by our own handlers are not usage errors and go on to the caller.
 */
export function usageFailure(message: string | undefined, error: Error | undefined): never {
  if (error && !message) throw error;
  console.error(redactText(`error: ${message ?? error?.message ?? 'invalid arguments'}\n(see --help)`));
  process.exit(exitCodes.usage);
}

/** The options every camfleet command ends with: strict flags, `--help`/`-h`, terminal-wide help, one-line usage errors. */
export function standardCli<T>(y: Argv<T>): Argv<T> {
  return y
    .strict()
    .help()
    .alias('h', 'help')
    .wrap(Math.min(120, process.stdout.columns || 120))
    .fail((message, error) => usageFailure(message, error));
}
