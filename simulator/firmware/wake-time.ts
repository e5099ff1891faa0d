// Wake times as the server sends them: `H:MMAM|PM` in UTC, minutes always two digits (PROTOCOL.md §4).
// A local fallback: simulator/protocol/ had no wake-time module when the firmware was written.

export interface WakeTime {
  readonly hour24: number; // 0..23
  readonly minute: number; // 0..59
}

const WAKE_TIME = /^\s*(\d{1,2}):(\d{2})\s*([AaPp])[Mm]\s*$/;
const DAY_MS = 24 * 60 * 60 * 1000;

/** `3:00PM` → { hour24: 15, minute: 0 }; `12:05AM` → 0:05; undefined for anything else. */
export function parseWakeTime(text: unknown): WakeTime | undefined {
  if (typeof text !== 'string') return undefined;
  const m = WAKE_TIME.exec(text);
  if (!m) return undefined;
  const hour12 = Number(m[1]);
  const minute = Number(m[2]);
  if (hour12 < 1 || hour12 > 12 || minute > 59) return undefined;
  const pm = m[3] === 'P' || m[3] === 'p';
  return { hour24: (hour12 % 12) + (pm ? 12 : 0), minute };
}

/** The first instant strictly after `nowMs` whose UTC clock reads that time; undefined if unparseable. */
export function nextOccurrenceUtcMs(nowMs: number, wakeTime: string | WakeTime): number | undefined {
  const t = typeof wakeTime === 'string' ? parseWakeTime(wakeTime) : wakeTime;
  if (t === undefined || !Number.isFinite(nowMs)) return undefined;
  const dayStart = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const candidate = dayStart + (t.hour24 * 60 + t.minute) * 60_000;
  return candidate > nowMs ? candidate : candidate + DAY_MS;
}
