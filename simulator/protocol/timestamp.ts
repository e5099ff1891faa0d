// Device capture timestamps (PROTOCOL.md §3): ISO `2026-01-14T10:00:00Z` or unpadded `2026-1-4 9:5:7` (UTC). A
// clock that never synced says 1970, so anything outside 2020–2100 falls back to the server's time.

export interface DeviceTime {
  readonly ms: number;
  readonly source: 'device' | 'server_fallback';
  /** Why the device time was not used (only for `server_fallback`). */
  readonly reason?: string;
}

export const MIN_DEVICE_YEAR = 2020;
export const MAX_DEVICE_YEAR = 2100;

// Date `-` separated, `T` or space, time with optional seconds and fraction, optional `Z` or offset (none = UTC).
const TIMESTAMP =
  /^\s*(\d{4})-(\d{1,2})-(\d{1,2})[Tt ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?\s*$/;

/** The UTC instant of a device timestamp, or null if it is not a real date and time. Year range not checked. */
export function parseTimestampMs(raw: string): number | null {
  if (typeof raw !== 'string') return null;
  const m = TIMESTAMP.exec(raw);
  if (m === null) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // not Date.UTC, which maps years 0..99 to 1900..1999
  d.setUTCHours(hour, minute, second, millis);
  if (d.getUTCDate() !== day) return null; // 2026-2-30
  const utc = d.getTime();
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return utc - offsetMin * 60_000;
}

/**
 * The capture time to record: the device's if it parses and its UTC year is within 2020–2100 inclusive, otherwise
 * `serverNowMs` with `source: 'server_fallback'` and the reason. Never throws.
 */
export function parseDeviceTimestamp(raw: string, serverNowMs: number): DeviceTime {
  const ms = parseTimestampMs(raw);
  if (ms === null) {
    return {
      ms: serverNowMs,
      source: 'server_fallback',
      reason: `unparseable device timestamp ${JSON.stringify(String(raw)).slice(0, 80)}`,
    };
  }
  const year = new Date(ms).getUTCFullYear();
  if (year < MIN_DEVICE_YEAR || year > MAX_DEVICE_YEAR) {
    return {
      ms: serverNowMs,
      source: 'server_fallback',
      reason: `device timestamp ${JSON.stringify(raw).slice(0, 80)} is in year ${year}, outside ${MIN_DEVICE_YEAR}–${MAX_DEVICE_YEAR}`,
    };
  }
  return { ms, source: 'device' };
}

/** `iso`: `2026-01-14T10:00:00Z`; `unpadded`: `2026-1-4 9:5:7` (the firmware's sloppy form). UTC, seconds. */
export function formatDeviceTimestamp(ms: number, style: 'iso' | 'unpadded'): string {
  const d = new Date(ms);
  const parts = [
    d.getUTCFullYear(),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
  const [y, mo, da, h, mi, s] = parts as [number, number, number, number, number, number];
  if (style === 'unpadded') return `${y}-${mo}-${da} ${h}:${mi}:${s}`;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${String(y).padStart(4, '0')}-${p(mo)}-${p(da)}T${p(h)}:${p(mi)}:${p(s)}Z`;
}
