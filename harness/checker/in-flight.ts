// Transfers in flight, read off the history: a capture whose device announced it (metadata) during its current
// wake and has not had it acknowledged yet. The run's fault triggers ("3-in-flight") and the exercise checks
// ("the restart hit a transfer in flight") count the same thing, so a trigger that fired is an exercise seen.
import type { HistoryEvent } from '../history/events.ts';

export class InFlightTransfers {
  /** Per device awake now: the captures (sha256) it announced this wake and still waits to have acknowledged. */
  private readonly byDevice = new Map<string, Set<string>>();
  private total = 0;

  apply(event: HistoryEvent): void {
    switch (event.type) {
      case 'device_wake':
      case 'device_sleep':
        this.clear(event.mac);
        return;
      case 'device_sent_metadata': {
        let set = this.byDevice.get(event.mac);
        if (set === undefined) this.byDevice.set(event.mac, (set = new Set()));
        if (!set.has(event.sha256)) {
          set.add(event.sha256);
          this.total += 1;
        }
        return;
      }
      case 'device_dequeued':
      case 'device_lost_capture': {
        const set = this.byDevice.get(event.mac);
        if (set?.delete(event.sha256)) this.total -= 1;
        return;
      }
      default:
        return;
    }
  }

  get count(): number {
    return this.total;
  }

  /** `mac|sha256` of every transfer in flight now. */
  keys(): string[] {
    const out: string[] = [];
    for (const [mac, set] of this.byDevice) for (const sha of set) out.push(`${mac}|${sha}`);
    return out;
  }

  private clear(mac: string): void {
    const set = this.byDevice.get(mac);
    if (set === undefined) return;
    this.total -= set.size;
    this.byDevice.delete(mac);
  }
}
