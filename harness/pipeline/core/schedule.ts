// The server's wake schedule for ACK_OK next_wake_time (PROTOCOL.md §1: images about twice a day, 100+ devices
// staggered). Default: 12 h from now, shifted by a hash of the MAC over ±1 h so a fleet does not wake at once.
import { fnv1a32 } from './names.ts';

const HOUR_MS = 3_600_000;
export const WAKE_INTERVAL_MS = 12 * HOUR_MS;
export const WAKE_STAGGER_MS = HOUR_MS;

export function defaultNextWakeMs(mac: string, nowMs: number): number {
  const offset = (fnv1a32(mac) % (2 * WAKE_STAGGER_MS + 1)) - WAKE_STAGGER_MS;
  return nowMs + WAKE_INTERVAL_MS + offset;
}
