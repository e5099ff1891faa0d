// What the firmware core asks the world to do, plus observations the harness records in its history
// (ARCHITECTURE.md §1: generator and checker talk through the history).
import type { DeviceMessage } from '../protocol/messages.ts';

/** The identity of one capture as the checker needs it (I2 no loss, I8 no phantoms). */
export interface CapturedImageInfo {
  readonly name: string;
  readonly imageId: number;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly captureTimestamp: string;
  readonly capturedAtMs: number;
  readonly captureSeq: number;
}

export type GaveUpReason = 'hello_unanswered' | 'ack_timeout';

/** `server`: a server-given wake time; `default`: config.wakeIntervalMsDefault from now. */
export type SleepSource = 'server' | 'default';

export type FirmwareEffect =
  // I/O requests
  | { readonly type: 'connect' }
  | { readonly type: 'disconnect' }
  | { readonly type: 'publish'; readonly message: DeviceMessage }
  | { readonly type: 'set_timer'; readonly timerId: string; readonly afterMs: number }
  | { readonly type: 'cancel_timer'; readonly timerId: string }
  /** Deep sleep; deliver `wake` at untilMs (UTC ms on the device clock). */
  | { readonly type: 'sleep'; readonly untilMs: number; readonly source: SleepSource }
  // observations for the history
  | { readonly type: 'captured'; readonly image: CapturedImageInfo }
  /** Removed from the SD queue on ACK_OK: the only way an image leaves it (PROTOCOL.md §1). */
  | { readonly type: 'dequeued'; readonly image_name: string; readonly sha256: string; readonly captureSeq: number }
  /** Retries exhausted; the device sleeps with its queue kept. */
  | { readonly type: 'gave_up'; readonly reason: GaveUpReason; readonly image_name?: string };

export type FirmwareEffectType = FirmwareEffect['type'];
