// How late chunks arrive right now. Devices send a transfer's chunks back to back, so the gap between two chunks of
// one transfer is the broker's delivery interval for that device — milliseconds when it keeps up, seconds when its
// queues are deep (a fleet-wide burst). The missing-chunks sweeper waits this much longer before it calls a transfer
// idle, so it does not ask for chunks that are still on their way. Gaps after a missing_chunks request are not
// observed (they measure the device's reaction, not delivery). The estimate is the largest recent gap, halving
// every halfLifeMs.
export class DeliveryLag {
  private valueMs = 0;
  private atMs = 0;

  constructor(private readonly halfLifeMs: number) {}

  observe(gapMs: number, nowMs: number): void {
    if (gapMs > this.valueMs && gapMs > this.currentMs(nowMs)) {
      this.valueMs = gapMs;
      this.atMs = nowMs;
    }
  }

  currentMs(nowMs: number): number {
    if (this.valueMs === 0) return 0;
    const age = Math.max(0, nowMs - this.atMs);
    return this.valueMs * 0.5 ** (age / this.halfLifeMs);
  }
}
