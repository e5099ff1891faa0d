// The missing-chunks sweep's decisions (PROTOCOL.md §4 missing_chunks, §7.8): when a transfer counts as idle, and
// what to do once its stored chunk ids are read — ask for the absent ones, or complete it when none is absent.
import { missingChunkIds } from './missing.ts';
import { isSettled, isSweepable, type TransferState } from './transfer-state.ts';

/** What the sweep reads of a transfer (transfers.ts Transfer). */
export interface SweptTransfer {
  readonly state: TransferState;
  /** Chunks of it buffered or being flushed. */
  readonly buffered: number;
  /** A sweep query for it is running. */
  readonly sweeping: boolean;
  readonly lastActivityMs: number;
  readonly missingRequests: number;
}

/** Idle = no chunk for the configured time, stretched by twice the current delivery lag (a deep broker queue
 *  delivers chunks seconds apart: they are on their way, not lost), at most by ten times the configured time. */
export function sweepIdleMs(idleMs: number, deliveryLagMs: number): number {
  return idleMs + Math.min(2 * deliveryLagMs, 10 * idleMs);
}

/** Due for a sweep: receiving, nothing on its way to the store, idle, and asked fewer than `requestsMax` times. */
export function isDueForSweep(t: SweptTransfer, nowMs: number, idleMs: number, requestsMax: number): boolean {
  if (!isSweepable(t.state) || t.buffered > 0 || t.sweeping) return false;
  return nowMs - t.lastActivityMs >= idleMs && t.missingRequests < requestsMax;
}

/**
 * Nothing for the sweep to wait for: every transfer is settled (complete or failed), or has been asked for its
 * missing chunks `requestsMax` times already, with nothing on its way to the store — only a message (new metadata,
 * a chunk) can change either. The sweeper's interval then stops until the next message, so hours without traffic
 * (a fleet in deep sleep, on a virtual clock; a device that slept mid-transfer) cost no ticks.
 */
export function sweepCanPark(
  transfers: Iterable<Pick<SweptTransfer, 'state' | 'buffered' | 'sweeping' | 'missingRequests'>>,
  requestsMax: number,
): boolean {
  for (const t of transfers) {
    if (isSettled(t.state)) continue;
    if (t.buffered > 0 || t.sweeping || t.missingRequests < requestsMax) return false;
  }
  return true;
}

/** Still idle once the stored ids are read: chunks that arrived meanwhile answer the question better. */
export function isStillIdle(t: SweptTransfer, nowMs: number, idleMs: number): boolean {
  return isSweepable(t.state) && t.buffered === 0 && nowMs - t.lastActivityMs >= idleMs;
}

export type SweepAction =
  /** Nothing is missing (a completion failed on a database error, or the chunks came meanwhile): complete it. */
  { readonly kind: 'complete' } | { readonly kind: 'request_missing'; readonly chunkIds: readonly number[] };

export function sweepAction(totalChunks: number, storedIds: Iterable<number>): SweepAction {
  const missing = missingChunkIds(totalChunks, storedIds);
  return missing.length === 0 ? { kind: 'complete' } : { kind: 'request_missing', chunkIds: missing };
}
