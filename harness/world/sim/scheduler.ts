// The sim world's seeded scheduler (ARCHITECTURE.md §2, §8; TigerBeetle's VOPR, fast-check's scheduler): every
// actor — devices, pipeline, nemesis, the run itself — runs in this one process on promises, and whatever could
// happen next in a real world is a *step* waiting here for the scheduler's choice: a message delivery by the
// router, a database statement let through (or its result handed back), a timer of the virtual clock. The scheduler
//   1. lets every actor run until it waits (microtasks drained),
//   2. waits for real work it does not choose the timing of to settle (a statement running in Postgres),
//   3. picks one of the steps now possible with its seeded generator and runs it,
//   4. when no step is possible, moves the virtual clock to the next due time and fires every timer due then (in
//      arming order, as Node does); what they start — messages, statements — then races as steps again,
// until the run says it is done or nothing can ever happen again. The same seed and the same actors give the same
// sequence of steps — its labels are the run's schedule, and their digest says so in a test — however fast or
// loaded the machine is.
import { createHash } from 'node:crypto';
import type { Rng } from '../../../simulator/random/prng.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** One thing that may happen next. `label` names it stably (the same step gets the same label in every run). */
export interface SimStep {
  readonly label: string;
  run(): void;
}

/** Where steps come from (the router's deliveries, the gated database's statements…). */
export interface StepSource {
  /** The steps possible now, in a stable order (the scheduler's choice indexes into it). */
  steps(): readonly SimStep[];
  /**
   * Real work in flight whose end the scheduler does not choose (a released statement running in Postgres): a
   * promise that settles once it has ended and its outcome is a step of `steps()`, or undefined when none runs.
   */
  settling?(): Promise<void> | undefined;
  /**
   * Asked only when no source has a step and no timer is due — the run would otherwise be over — for work that may
   * still end by itself (a lock wait Postgres' deadlock detector breaks): a promise that settles once it looked
   * again (true: something changed), or undefined when nothing is left waiting.
   */
  stalled?(): Promise<boolean> | undefined;
}

/**
 * Picks the step to run among those possible (an index into `steps`), asked only when there are two or more. The
 * default is the seeded generator's uniform pick; a scripted chooser replays or enumerates schedules — every
 * interleaving of a small race, depth-first (harness/pipeline/two-writers.property.test.ts).
 */
export type StepChooser = (steps: readonly SimStep[]) => number;

export interface SchedulerOptions {
  /** Draws the choices, unless `choose` is given. */
  readonly rng: Rng;
  /** Chooses instead of `rng` (see StepChooser). An index outside `steps` is an error. */
  readonly choose?: StepChooser;
  readonly clock: VirtualClock;
  readonly sources: readonly StepSource[];
  /** Stop after this many steps and timer firings (a run that never quiesces). Default 10 million. */
  readonly stepsMax?: number;
  /** Keep every label (for a test or a replay check); the digest is kept either way. */
  readonly keepTrace?: boolean;
  /** Looks in a row at stalled sources (each after a short real wait) before giving up with `stalled`. Default 600. */
  readonly stalledRoundsMax?: number;
  /**
   * Called each time the world has settled (every actor waits, nothing runs in Postgres), before the next choice: a
   * point that is the same in every run of a seed, where the run's nemesis looks at its progress triggers
   * (fault-wiring.ts) instead of on a timer, which would fire through every hour of virtual deep sleep. It returns
   * whether it started anything; if so, that runs (microtasks drained) before the scheduler looks for steps.
   */
  readonly onSettled?: () => boolean;
}

/** `stalled`: only work nobody in the world can end was left (e.g. a lock held outside it), for stalledRoundsMax. */
export type SchedulerStop = 'done' | 'quiescent' | 'steps_max' | 'stalled';

export interface SchedulerResult {
  readonly stop: SchedulerStop;
  /** Steps chosen (deliveries, statements…). */
  readonly steps: number;
  /** Timers fired when time moved (an instant where several were due counts each timeout, an interval once). */
  readonly timersFired: number;
  /** sha256 of every step's label in order, and of each virtual instant time moved to. */
  readonly scheduleDigest: string;
  readonly trace: readonly string[] | undefined;
}

/** Resolves once every microtask queued before it (and those they queue) has run: all actors wait on something. */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class SimScheduler {
  private readonly hash = createHash('sha256');
  private readonly trace: string[] | undefined;
  private steps = 0;
  private timersFired = 0;
  private running = false;

  constructor(private readonly options: SchedulerOptions) {
    this.trace = options.keepTrace === true ? [] : undefined;
  }

  /** Runs the world until `done()` says so, nothing can happen any more, or stepsMax. */
  async runUntil(done: () => boolean): Promise<SchedulerResult> {
    if (this.running) throw new Error('SimScheduler: runUntil is already running');
    this.running = true;
    try {
      return { stop: await this.loop(done), ...this.counts() };
    } finally {
      this.running = false;
    }
  }

  private async loop(done: () => boolean): Promise<SchedulerStop> {
    const { clock, sources } = this.options;
    const choose = this.options.choose ?? ((steps: readonly SimStep[]) => this.options.rng.int(0, steps.length - 1));
    const stepsMax = this.options.stepsMax ?? 10_000_000;
    let stalledRounds = 0;
    for (;;) {
      await drainMicrotasks();
      if (await this.settle()) continue;
      if (this.options.onSettled?.() === true) continue;
      if (done()) return 'done';
      if (this.steps + this.timersFired >= stepsMax) return 'steps_max';
      const possible = sources.flatMap((s) => s.steps());
      if (possible.length > 0) {
        const index = possible.length === 1 ? 0 : choose(possible);
        const step = possible[index];
        if (step === undefined) {
          throw new Error(
            Number.isInteger(index) && index >= 0 && index < possible.length
              ? 'SimScheduler: a source gave an undefined step'
              : `SimScheduler: the chooser picked ${index} of ${possible.length} steps`,
          );
        }
        this.record(step.label);
        this.steps++;
        step.run();
        continue;
      }
      const dueMs = clock.nextDueMs();
      if (dueMs === undefined) {
        const stalled = await this.stalled();
        if (stalled === undefined) return 'quiescent';
        stalledRounds = stalled ? 0 : stalledRounds + 1;
        if (stalledRounds >= (this.options.stalledRoundsMax ?? 600)) return 'stalled';
        continue;
      }
      stalledRounds = 0;
      this.record(`time ${dueMs}`);
      const before = clock.pendingCount;
      clock.advanceTo(dueMs);
      // Timeouts fired leave the count; an interval re-arms (counted once per firing below).
      this.timersFired += Math.max(1, before - clock.pendingCount);
    }
  }

  /** Waits for real work in flight; true when there was some (the world may have changed: look again). */
  private async settle(): Promise<boolean> {
    const waits = this.options.sources.flatMap((s) => {
      const p = s.settling?.();
      return p === undefined ? [] : [p];
    });
    if (waits.length === 0) return false;
    await Promise.all(waits);
    return true;
  }

  /** Asks stalled sources to look again; undefined when none is stalled, else whether anything changed. */
  private async stalled(): Promise<boolean | undefined> {
    const looks = this.options.sources.flatMap((s) => {
      const p = s.stalled?.();
      return p === undefined ? [] : [p];
    });
    if (looks.length === 0) return undefined;
    return (await Promise.all(looks)).some((changed) => changed);
  }

  private record(label: string): void {
    this.hash.update(label);
    this.hash.update('\n');
    this.trace?.push(label);
  }

  private counts(): Omit<SchedulerResult, 'stop'> {
    return {
      steps: this.steps,
      timersFired: this.timersFired,
      scheduleDigest: this.hash.copy().digest('hex'),
      trace: this.trace === undefined ? undefined : [...this.trace],
    };
  }
}
