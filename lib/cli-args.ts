// The library's options are the command line's, camelCased (`imageKb` for `--image-kb`): they are turned back into
// arguments and parsed by the very parser the command uses, so a library call and a command refuse the same things
// with the same words. Pure: no parsing here, only the translation and the check that every key is a flag.
import { UsageError } from '../harness/run/exit-codes.ts';

/** `imageKb` → `image-kb`; a number after a letter starts a word too: `webhook5xxRate` → `webhook-5xx-rate`. */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/([a-z])(\d+)/g, '$1-$2');
}

/** `image-kb` → `imageKb`, `webhook-5xx-rate` → `webhook5xxRate`. */
export function camelCase(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Arguments for `options` (undefined values left out): `--flag=value` (so a value starting with `-` stays a value),
 * a list as the flag once per item, `true` as `--flag`, `false` as `--no-flag`. A key that is not one of `flags`
 * (kebab-case, as the parser declares them) is refused, named as the caller wrote it.
 */
export function toCliArgs(
  options: Readonly<Record<string, unknown>>,
  flags: ReadonlySet<string>,
  what: string,
): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const flag = kebabCase(key);
    if (!flags.has(flag)) {
      const known = [...flags].map(camelCase).sort().join(', ');
      throw new UsageError(`${what}: unknown option "${key}" (options: ${known})`);
    }
    if (typeof value === 'boolean') args.push(value ? `--${flag}` : `--no-${flag}`);
    else if (Array.isArray(value)) for (const item of value) args.push(`--${flag}=${String(item)}`);
    else if (typeof value === 'number' || typeof value === 'string') args.push(`--${flag}=${String(value)}`);
    else throw new UsageError(`${what}: option "${key}" must be a number, a string, a boolean or a list of them`);
  }
  return args;
}
