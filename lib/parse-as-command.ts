// A command's own parser, run on a library call's options (cli-args.ts): strict, no help or version, and throwing
// a UsageError where the command would print one line and exit 2.
import yargs, { type Argv } from 'yargs';
import { UsageError } from '../harness/run/exit-codes.ts';
import { camelCase, toCliArgs } from './cli-args.ts';

/** The flags a parser declares (yargs keeps them as `getOptions().key`; its types leave it out). */
export function declaredFlags(y: object): string[] {
  const options = (y as { getOptions?: () => { key?: Record<string, unknown> } }).getOptions?.();
  if (options?.key === undefined) throw new Error('yargs no longer lists its options (getOptions().key)');
  return Object.keys(options.key).filter((flag) => flag !== 'help' && flag !== 'version');
}

/**
 * Parses `options` (camelCased flags) with `build` (the command's flags and checks on a yargs instance). `refused`
 * names the command's options a library call does not take, with why.
 */
export async function parseAsCommand<A>(
  what: string,
  options: Readonly<Record<string, unknown>>,
  build: (y: Argv, args: readonly string[]) => { parseAsync(): Promise<A> },
  refused: Readonly<Record<string, string>> = {},
): Promise<{ argv: A; args: string[] }> {
  for (const [key, value] of Object.entries(options)) {
    const why = refused[key];
    if (why !== undefined && value !== undefined) throw new UsageError(`${what}: option "${key}": ${why}`);
  }
  const strict = (args: readonly string[]) => {
    const y = yargs([...args])
      .strict()
      .help(false)
      .version(false)
      .exitProcess(false)
      .fail((message, error) => {
        throw error ?? new UsageError(message ?? 'invalid options');
      });
    return build(y, args);
  };
  const flags = new Set(declaredFlags(strict([])).filter((flag) => !(camelCase(flag) in refused)));
  const args = toCliArgs(options, flags, what);
  try {
    return { argv: await strict(args).parseAsync(), args };
  } catch (error) {
    // The message names flags as the command line does (`--image-kb`): the command's words, prefixed by the call.
    if (error instanceof Error && !('exitCode' in error)) throw new UsageError(`${what}: ${error.message}`);
    throw error;
  }
}
