// The in-memory side of image transfers: the route of a device's wire image name to its image row (backed by
// image_transfers, so it survives a restart), and what this process knows of the transfer's progress.
import type { Dialect } from '../../simulator/protocol/index.ts';
import { storedDialect, type TransferFacts } from './core/facts.ts';
import { isSettled, stateOfStoredRow, type TransferState } from './core/transfer-state.ts';
import type { StoredRoute } from './store/images.ts';

export type { TransferState } from './core/transfer-state.ts';

export class Transfer implements TransferFacts {
  /** What this process believes of it; changed only by steps of the transfer state machine (core/transfer-state.ts). */
  state: TransferState;
  /** 1 = stored or on its way to the store (buffered / being flushed); a chunk seen twice is not written twice. */
  readonly known: Uint8Array;
  /** Chunks of this transfer buffered or in a flush right now. */
  buffered = 0;
  lastActivityMs: number;
  missingRequests = 0;
  /** A sweeper query for this transfer is running. */
  sweeping = false;

  constructor(
    readonly mac: string,
    public dialect: Dialect,
    readonly deviceId: string,
    readonly wireName: string,
    readonly storedName: string,
    readonly imageId: string,
    readonly captureTimestamp: string,
    readonly imageSize: number,
    readonly totalChunks: number,
    readonly chunkBytes: number | null,
    state: TransferState,
    nowMs: number,
  ) {
    this.state = state;
    this.known = new Uint8Array(totalChunks);
    this.lastActivityMs = nowMs;
  }
}

/** The Transfer of a durable route read back from image_transfers (a chunk whose metadata this process has not
 *  seen, or adoption after a restart): its state from the row, its dialect as stored, else `fallbackDialect`. */
export function transferFromRoute(
  mac: string,
  wireName: string,
  r: StoredRoute,
  fallbackDialect: Dialect,
  nowMs: number,
): Transfer {
  return new Transfer(
    mac,
    storedDialect(r.dialect, fallbackDialect),
    r.deviceId,
    wireName,
    r.storedName,
    r.imageId,
    r.captureTimestamp,
    r.imageSize,
    r.totalChunks,
    r.chunkBytes,
    stateOfStoredRow(r.status),
    nowMs,
  );
}

export function routeKey(mac: string, wireName: string): string {
  return `${mac}|${wireName}`;
}

/** How many settled (complete/failed) transfers stay cached; older ones are reloaded from image_transfers. */
const SETTLED_KEPT_MAX = 20_000;
/** A "no route" answer from the database is trusted this long (metadata in this process clears it at once). */
const NEGATIVE_TTL_MS = 5_000;

export class RouteCache {
  private readonly routes = new Map<string, Transfer>();
  private readonly absent = new Map<string, number>();

  get(key: string): Transfer | undefined {
    return this.routes.get(key);
  }

  set(key: string, t: Transfer): void {
    this.routes.delete(key); // re-insert: Map order is recency order
    this.routes.set(key, t);
    this.absent.delete(key);
    if (this.routes.size > SETTLED_KEPT_MAX) this.evictSettled();
  }

  markAbsent(key: string, nowMs: number): void {
    this.absent.set(key, nowMs + NEGATIVE_TTL_MS);
    if (this.absent.size > SETTLED_KEPT_MAX) this.absent.clear();
  }

  isKnownAbsent(key: string, nowMs: number): boolean {
    const until = this.absent.get(key);
    if (until === undefined) return false;
    if (until > nowMs) return true;
    this.absent.delete(key);
    return false;
  }

  clearAbsent(key: string): void {
    this.absent.delete(key);
  }

  values(): IterableIterator<Transfer> {
    return this.routes.values();
  }

  private evictSettled(): void {
    for (const [key, t] of this.routes) {
      if (this.routes.size <= SETTLED_KEPT_MAX / 2) break;
      if (isSettled(t.state) && t.buffered === 0) this.routes.delete(key);
    }
  }
}
