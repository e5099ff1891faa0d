// Fires the plan's scheduled faults when their triggers are due (trigger.ts), during the safety phase only. The run
// samples its progress (chunks stored, transfers in flight, elapsed time) every `pollMs`; a due fault is recorded
// (`fault_fired`, with what the trigger saw) and injected, one injection after another so a restart in progress
// delays the next fault rather than overlapping it. At `stop()` (the fleet is done, faults stop before the heal
// phase) every fault that never fired is recorded as `fault_missed`: the checker's E1 then says `unknown`.
import type { History } from '../history/history.ts';
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { describeSample, parseTrigger, triggerDue, type FaultTrigger, type RunProgressSample } from './trigger.ts';

interface Planned {
  readonly planId: number;
  readonly fault: string;
  readonly trigger: FaultTrigger;
  readonly triggerText: string;
  readonly work: () => Promise<void>;
}

export interface FaultSchedulerStats {
  readonly fired: number;
  readonly missed: number;
  /** Injections that threw (the run reports them; a fault that silently did nothing is a defect). */
  readonly errors: readonly string[];
}

export class FaultScheduler {
  private readonly pending: Planned[] = [];
  private nextPlanId = 1;
  private timer: TimerHandle | undefined;
  private startedMs = 0;
  /** Without a poll: one timer per time trigger. */
  private readonly timers: TimerHandle[] = [];
  private started = false;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private fired = 0;
  private missed = 0;
  private readonly errors: string[] = [];
  private injectingNow: { fault: string; trigger: string } | undefined;

  constructor(
    private readonly history: History,
    /** The run's progress; `elapsedMs` is filled in by the scheduler (ms since `start()`). */
    private readonly sample: () => Omit<RunProgressSample, 'elapsedMs'>,
    private readonly pollMs = 5,
    /** The poll timer runs on it, and time triggers read it unless a `now` is passed. Default realClock. */
    private readonly clock: Clock = realClock,
    /**
     * `poll: false`: no poll timer; whoever drives the world calls checkNow() at points of its own (a sim run: each
     * time its scheduler has settled, so a trigger fires at the same step in every run of a seed, and no 5 ms timer
     * fires through hours of virtual deep sleep). Calls before start() are ignored then; a time trigger gets a timer
     * of its own at its due time.
     */
    private readonly mode: { readonly poll: boolean } = { poll: true },
  ) {}

  private readonly clockNow = (): number => this.clock.nowMs();

  /** Plans `work` for when `trigger` (e.g. "40%") is due; recorded in the history at once. */
  plan(fault: string, trigger: string, work: () => Promise<void>): void {
    const planned: Planned = {
      planId: this.nextPlanId++,
      fault,
      trigger: parseTrigger(trigger),
      triggerText: trigger,
      work,
    };
    this.pending.push(planned);
    this.history.append({ type: 'fault_planned', planId: planned.planId, fault, trigger });
  }

  /** Whether a fault still waiting needs this kind of progress (the run samples the database only then). */
  waitsFor(kind: FaultTrigger['kind']): boolean {
    return this.pending.some((p) => p.trigger.kind === kind);
  }

  get planned(): number {
    return this.nextPlanId - 1;
  }

  /** The fleet starts: time triggers count from now (`now`: default the scheduler's clock). */
  start(now: () => number = this.clockNow): void {
    this.startedMs = now();
    this.started = true;
    if (!this.mode.poll) {
      // Time triggers need no poll either: a timer at each one's due time (on a virtual clock it fires then, deep
      // sleep or not) looks once.
      for (const p of this.pending) {
        if (p.trigger.kind === 'time')
          this.timers.push(this.clock.setTimeout(() => void this.checkNow(now), p.trigger.ms));
      }
      this.checkNow(now);
      return;
    }
    const tick = () => {
      if (this.stopped) return;
      this.checkNow(now);
      if (this.pending.length > 0) this.timer = this.clock.setTimeout(tick, this.pollMs);
    };
    tick();
  }

  private current(now: () => number): RunProgressSample {
    return { ...this.sample(), elapsedMs: now() - this.startedMs };
  }

  /** Fires what is due now (the poll timer calls it; tests call it directly, for a deterministic sequence); returns
   *  whether anything became due. */
  checkNow(now: () => number = this.clockNow): boolean {
    if (this.pending.length === 0 || (!this.mode.poll && !this.started)) return false;
    const sample = this.current(now);
    let due = false;
    for (const p of [...this.pending]) {
      if (!triggerDue(p.trigger, sample)) continue;
      due = true;
      this.pending.splice(this.pending.indexOf(p), 1);
      this.chain = this.chain.then(async () => {
        if (this.stopped) return;
        // Recorded as the injection starts (not when it was due), with the progress then.
        this.history.append({
          type: 'fault_fired',
          planId: p.planId,
          fault: p.fault,
          trigger: p.triggerText,
          detail: describeSample(this.current(now)),
        });
        this.fired += 1;
        this.injectingNow = { fault: p.fault, trigger: p.triggerText };
        try {
          await p.work();
        } catch (error) {
          this.errors.push(`${p.fault}: ${error instanceof Error ? error.message : String(error)}`);
        } finally {
          this.injectingNow = undefined;
          this.history.append({ type: 'fault_done', planId: p.planId, fault: p.fault });
        }
      });
    }
    return due;
  }

  /** The injection in progress, if any (the progress display says what the run is waiting for). */
  get injecting(): { readonly fault: string; readonly trigger: string } | undefined {
    return this.injectingNow;
  }

  stats(): FaultSchedulerStats {
    return { fired: this.fired, missed: this.missed, errors: [...this.errors] };
  }

  /** Resolves when every injection started so far has finished. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Faults stop: nothing more fires; waits for an injection in progress; records every fault that never fired. */
  async stop(now: () => number = this.clockNow): Promise<void> {
    this.clock.clearTimeout(this.timer);
    for (const t of this.timers.splice(0)) this.clock.clearTimeout(t);
    this.checkNow(now); // a trigger due right now still fires
    await this.chain;
    this.stopped = true;
    const sample = this.current(now);
    for (const p of this.pending.splice(0)) {
      this.missed += 1;
      this.history.append({
        type: 'fault_missed',
        planId: p.planId,
        fault: p.fault,
        trigger: p.triggerText,
        detail: `the fleet finished first: ${describeSample(sample)}`,
      });
    }
  }
}
