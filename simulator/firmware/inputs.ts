// What the outside world tells the firmware core. The runner (transport adapter + scheduler) turns sockets,
// timers and the RTC into these; the core never sees a socket (ARCHITECTURE.md §6, sans-I/O).
import type { ServerMessage } from '../protocol/messages.ts';

export type FirmwareInput =
  /** RTC timer fired after a `sleep` effect, or first power on. */
  | { readonly type: 'wake' }
  /** MQTT session up (after a `connect` effect). */
  | { readonly type: 'connected' }
  /** Wi-Fi / MQTT could not be reached this wake (after a `connect` effect). */
  | { readonly type: 'connect_failed' }
  /** A decoded server message from /cmd or /ack, already filtered to this device. */
  | { readonly type: 'message'; readonly message: ServerMessage }
  /** A timer the firmware set with `set_timer` has fired. */
  | { readonly type: 'timer'; readonly timerId: string }
  /** Power cycle: RAM lost, flash and SD kept; the device then wakes. */
  | { readonly type: 'reboot' }
  /** The MQTT session dropped without the firmware asking. */
  | { readonly type: 'disconnected' };

export type FirmwareInputType = FirmwareInput['type'];

/** Time and randomness for one step: the only sources of either (no Date.now, no Math.random). */
export interface StepContext {
  /** The device's RTC clock, UTC milliseconds (may be wrong: a bad-clock fault). */
  readonly nowMs: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  /**
   * How capture timestamps are written (PROTOCOL.md §3): `iso` `2026-01-14T10:00:00Z` (firmware v3.5.0, the
   * default) or `unpadded` `2026-1-4 9:5:7` (a bad-clock fault: failed NTP sync, sloppy formatting).
   */
  readonly timestampStyle?: TimestampStyle;
}

export type TimestampStyle = 'iso' | 'unpadded';
