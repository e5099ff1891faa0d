// JSON payloads (PROTOCOL.md §2): UTF-8 JSON objects, with the original server's smart-quote repair.

import type { Decoded } from './messages.ts';
import { ok, rejected, show } from './reject.ts';

const SMART_QUOTES = /[\u2018\u2019\u201c\u201d]/g;
const HAS_SMART_QUOTE = /[\u2018\u2019\u201c\u201d]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Replace the four curly quotes U+201C/U+201D/U+2018/U+2019 with `"`, as the original server did before JSON.parse.
 * Note this also rewrites curly quotes inside string values (the original did the same); encoders avoid the
 * problem by escaping them (see `escapeSmartQuotes`).
 */
export function repairSmartQuotes(text: string): string {
  return HAS_SMART_QUOTE.test(text) ? text.replace(SMART_QUOTES, '"') : text;
}

/** Escape curly quotes in JSON text as `\uXXXX`, so that `repairSmartQuotes` leaves the values intact. */
export function escapeSmartQuotes(json: string): string {
  return HAS_SMART_QUOTE.test(json)
    ? json.replace(SMART_QUOTES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}

/** Bytes or text → text; invalid UTF-8 is `not_json`. */
export function payloadText(payload: string | Uint8Array): Decoded<string> {
  if (typeof payload === 'string') return ok(payload);
  if (!(payload instanceof Uint8Array))
    return rejected('not_json', `payload ${show(payload)} is neither text nor bytes`);
  try {
    return ok(utf8.decode(payload));
  } catch {
    return rejected('not_json', `payload (${payload.byteLength} bytes) is not valid UTF-8`);
  }
}

/** Parse a payload that must be a JSON object (`not_json` / `not_object` otherwise). Never throws. */
export function parseJsonPayload(text: string | Uint8Array): Decoded<Record<string, unknown>> {
  const decoded = payloadText(text);
  if (!decoded.ok) return decoded;
  let value: unknown;
  try {
    value = JSON.parse(repairSmartQuotes(decoded.value));
  } catch (e) {
    const why = e instanceof Error ? e.message : 'parse error';
    return rejected('not_json', `payload ${show(decoded.value, 60)} is not JSON (${why.slice(0, 100)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return rejected('not_object', `payload is JSON ${show(value, 60)}, not an object`);
  }
  return ok(value as Record<string, unknown>);
}
