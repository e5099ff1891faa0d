// Numeric options of every camfleet CLI. yargs' `type: 'number'` turns `abc` into NaN before any check sees it, so
// the user would read "got NaN"; these options take the raw text and convert it here, naming what was typed.

/** Converts one option's raw text to a number, or throws "--<flag> must be a number, got <text>". */
export function parseNumberArgument(flag: string): (raw: unknown) => number {
  return (raw) => {
    // Given twice, yargs passes both; the last one wins, as for every other option.
    const value: unknown = Array.isArray(raw) ? raw.at(-1) : raw;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    const text = String(value).trim();
    const parsed = Number(text);
    if (text === '' || !Number.isFinite(parsed)) throw new Error(`--${flag} must be a number, got ${String(value)}`);
    return parsed;
  };
}

/**
 * A yargs option spec for a number: the same fields as `type: 'number'` (default, describe, choices, …) but the
 * conversion is ours. (yargs' help then shows no `[number]` tag; the description says what the number is.)
 */
export function numberOption<const O extends { readonly describe: string }>(flag: string, spec: O) {
  return { ...spec, requiresArg: true, coerce: parseNumberArgument(flag) } as const;
}
