// A device's RTC in a live run: real time while awake (so ack timeouts mean what they say), but hours of deep
// sleep pass in milliseconds — the skipped time is added to the clock so the device wakes at the instant it asked.
// "Real" is the world's clock (harness/world/clock.ts): wall time in a live run, virtual time in sim.
import { realClock } from '../world/live/real-clock.ts';

export class DeviceClock {
  private offsetMs: number;

  constructor(
    startMs: number,
    private readonly realNow: () => number = () => realClock.nowMs(),
  ) {
    this.offsetMs = startMs - realNow();
  }

  now(): number {
    return this.realNow() + this.offsetMs;
  }

  /**
   * How long (real ms) to wait for a sleep until `untilMs` at `timeScale` (virtual ms per real ms), capped;
   * the virtual time not waited for is skipped, so after the wait `now()` reads `untilMs`.
   */
  compressSleep(untilMs: number, timeScale: number, realSleepMsMax: number): number {
    const virtualMs = Math.max(0, untilMs - this.now());
    const realMs = Math.min(realSleepMsMax, virtualMs / timeScale);
    this.offsetMs += virtualMs - realMs;
    return realMs;
  }
}
