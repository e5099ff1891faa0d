// Rejections are bounded (issue 11 "Device security"): a 0.2 s flood of junk from one client added 1,638
// rejected_messages rows and as many log lines. Per device (or, for a topic naming none, per topic) and per minute
// of the pipeline's clock (minutes counted from the first refusal), the first `rowsPerDeviceMinute` refusals are stored one by one; the rest are counted,
// and stored as one row per (device, topic, code) saying how many it stands for (rejected_messages.messages) once
// that minute is over — nothing is lost, the table grows by a bounded amount. Log lines are capped the same way
// for the whole pipeline, with one line per minute saying how many were not logged. Pure: the pipeline gives the
// time.

export interface RejectionLimits {
  /** Refusals stored one by one per device per minute. */
  readonly rowsPerDeviceMinute: number;
  /** Refusal log lines per minute, all devices together. */
  readonly logLinesPerMinute: number;
}

export const REJECTION_LIMITS_DEFAULT: RejectionLimits = { rowsPerDeviceMinute: 20, logLinesPerMinute: 20 };

export const REJECTION_WINDOW_MS = 60_000;

/** Refusals counted instead of stored: one row's worth. */
export interface CountedRejections {
  readonly deviceMac: string | null;
  readonly topic: string;
  readonly code: string;
  readonly messages: number;
  /** The minute they fell in (ms since the epoch, on the pipeline's clock). */
  readonly windowStartMs: number;
}

export interface RejectionDecision {
  readonly store: boolean;
  readonly log: boolean;
}

export class RejectionLimiter {
  private window = Number.NaN;
  private readonly storedBy = new Map<string, number>();
  private counted = new Map<string, CountedRejections>();
  private loggedLines = 0;
  private unlogged = 0;
  private readonly ended: CountedRejections[] = [];
  private endedUnlogged: { windowStartMs: number; lines: number }[] = [];

  constructor(private readonly limits: RejectionLimits = REJECTION_LIMITS_DEFAULT) {}

  /** A refusal at `nowMs`: whether to store it as its own row and whether to log it. */
  admit(nowMs: number, deviceMac: string | null, topic: string, code: string): RejectionDecision {
    this.roll(nowMs);
    const who = deviceMac ?? `topic:${topic}`;
    const stored = this.storedBy.get(who) ?? 0;
    const store = stored < this.limits.rowsPerDeviceMinute;
    if (store) this.storedBy.set(who, stored + 1);
    else {
      const key = `${who}\u0000${topic}\u0000${code}`;
      const before = this.counted.get(key);
      this.counted.set(key, {
        deviceMac,
        topic,
        code,
        messages: (before?.messages ?? 0) + 1,
        windowStartMs: this.window,
      });
    }
    const log = this.loggedLines < this.limits.logLinesPerMinute;
    if (log) this.loggedLines += 1;
    else this.unlogged += 1;
    return { store, log };
  }

  /** Counted refusals of minutes that are over by `nowMs` (every one, with `all`), each handed out once. */
  takeCounted(nowMs: number | 'all'): CountedRejections[] {
    if (nowMs === 'all') this.closeWindow();
    else this.roll(nowMs);
    return this.ended.splice(0);
  }

  /**
   * Every counted refusal not handed out yet — the minutes that are over and the current one so far — without
   * starting a new minute: the devices' allowance for this minute stays as used (a pipeline asked to be idle writes
   * what it counted, and a device past its cap stays past it).
   */
  takeCountedSoFar(nowMs: number): CountedRejections[] {
    this.roll(nowMs);
    const out = [...this.ended.splice(0), ...this.counted.values()];
    this.counted = new Map();
    return out;
  }

  /** Minutes that are over with log lines left out: one line each, handed out once. */
  takeUnlogged(nowMs: number | 'all'): { windowStartMs: number; lines: number }[] {
    if (nowMs === 'all') this.closeWindow();
    else this.roll(nowMs);
    const out = this.endedUnlogged;
    this.endedUnlogged = [];
    return out;
  }

  /** When the current minute ends (undefined before the first refusal). */
  get windowEndMs(): number | undefined {
    return Number.isNaN(this.window) ? undefined : this.window + REJECTION_WINDOW_MS;
  }

  /** Refusals counted and not yet handed out (the summary's "not stored one by one"). */
  get pendingCounted(): number {
    let n = 0;
    for (const c of this.counted.values()) n += c.messages;
    for (const c of this.ended) n += c.messages;
    return n;
  }

  /** Minutes run from the first refusal (not the clock's minutes): a flood is judged by its own first minute. */
  private roll(nowMs: number): void {
    if (Number.isNaN(this.window)) {
      this.window = nowMs;
      return;
    }
    if (nowMs < this.window + REJECTION_WINDOW_MS) return;
    this.closeWindow();
    this.window += Math.floor((nowMs - this.window) / REJECTION_WINDOW_MS) * REJECTION_WINDOW_MS;
  }

  private closeWindow(): void {
    this.ended.push(...this.counted.values());
    this.counted = new Map();
    this.storedBy.clear();
    if (this.unlogged > 0) this.endedUnlogged.push({ windowStartMs: this.window, lines: this.unlogged });
    this.unlogged = 0;
    this.loggedLines = 0;
  }
}
