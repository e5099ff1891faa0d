// The yargs tail every camfleet command shares: strict flags, help, and one-line usage errors with exit 2.
import type { Argv } from 'yargs';
import { exitCodes } from '../run/exit-codes.ts';
import { redactText } from '../world/redact.ts';

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
