// Device identity (PROTOCOL.md §1): a MAC as 12 upper-case hex digits, or a test id kept as it is.

/** Prefixes of ids that are not MACs and are kept verbatim (the original server's exceptions). */
export const KEPT_ID_PREFIXES = ['TEST-', 'SYSTEM:', 'VIRTUAL:'] as const;

// A kept id must still be usable as one MQTT topic level: no '/', no wildcards, no whitespace or control characters.
const KEPT_ID_REST = /^[^\s/+#\p{Cc}]{1,120}$/u;
const SEPARATORS = /[: -]/g;
const MAC = /^[0-9A-F]{12}$/;

/**
 * `98:a3:16:f8:29:28` → `98A316F82928`. Strips `:`, `-` and spaces (not other whitespace), upper-cases, and requires 12 hex digits.
 * Ids starting `TEST-`, `SYSTEM:`, `VIRTUAL:` are returned unchanged (if the rest is a usable topic level).
 * Returns null for anything else; never throws.
 */
export function normaliseDeviceId(raw: string): string | null {
  if (typeof raw !== 'string') return null;
  for (const prefix of KEPT_ID_PREFIXES) {
    if (raw.startsWith(prefix)) return KEPT_ID_REST.test(raw.slice(prefix.length)) ? raw : null;
  }
  if (raw.length > 64) return null;
  const mac = raw.replace(SEPARATORS, '').toUpperCase();
  return MAC.test(mac) ? mac : null;
}
