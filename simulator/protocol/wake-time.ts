// Wake times (PROTOCOL.md §4): `H:MMAM|PM` on a 12-hour clock, **in UTC**, minutes always two digits.

export interface WakeTime {
  /** 0..23 */
  readonly hour24: number;
  /** 0..59 */
  readonly minute: number;
}

const DAY_MS = 86_400_000;
// Lenient on input: optional leading zero, optional space before the meridiem, any case, surrounding whitespace.
const WAKE_TIME = /^\s*(\d{1,2}):(\d{2})\s?([AaPp])[Mm]\s*$/;

/** `3:00PM`, `12:00PM` (noon), `12:05AM` (just after midnight): the UTC clock time of `utcMs`, seconds dropped. */
export function formatWakeTime(utcMs: number): string {
  const d = new Date(utcMs);
  return formatClock({ hour24: d.getUTCHours(), minute: d.getUTCMinutes() });
}

/** The wire form of a clock time. */
export function formatClock(t: WakeTime): string {
  const h12 = t.hour24 % 12 === 0 ? 12 : t.hour24 % 12;
  return `${h12}:${String(t.minute).padStart(2, '0')}${t.hour24 < 12 ? 'AM' : 'PM'}`;
}

/** Parse `H:MMAM|PM` (hour 1..12, minute 00..59); null if it is not one. Never throws. */
export function parseWakeTime(s: string): WakeTime | null {
  if (typeof s !== 'string') return null;
  const m = WAKE_TIME.exec(s);
  if (m === null) return null;
  const hour12 = Number(m[1]);
  const minute = Number(m[2]);
  if (hour12 < 1 || hour12 > 12 || minute > 59) return null;
  const pm = m[3] === 'P' || m[3] === 'p';
  return { hour24: (hour12 % 12) + (pm ? 12 : 0), minute };
}

/**
 * The first instant **strictly after** `nowMs` whose UTC clock reads `s` (at second 0): today's if still ahead,
 * otherwise tomorrow's. A device told "3:00PM" at exactly 15:00:00.000 UTC sleeps a full day. Null if `s` is not a
 * wake time (or `nowMs` is not a finite time).
 */
export function nextOccurrenceUtcMs(s: string, nowMs: number): number | null {
  const t = parseWakeTime(s);
  if (t === null || !Number.isFinite(nowMs)) return null;
  const dayStart = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const today = dayStart + (t.hour24 * 60 + t.minute) * 60_000;
  return today > nowMs ? today : today + DAY_MS;
}
