// The sim world's RunDrive: SimScheduler over the router's deliveries and one gated database in manual mode, seeded
// from the run's seed (`rng.fork('schedule')`). Every statement an actor issues while it runs — the pipelines',
// the ACK observer's — waits at the gate for the scheduler; every message waits in the router; time moves only
// when nothing else can happen. What the run itself does outside the gate (the checker, after stop()) does not
// overlap with it.
import { createRng } from '../../simulator/random/prng.ts';
import { PIPELINE_APPLICATION_NAME } from '../nemesis/server-nemesis.ts';
import { realClock } from '../world/live/real-clock.ts';
import { leaseDatabase } from '../world/sim/database-lease.ts';
import type { GatedDatabase } from '../world/sim/gated-database.ts';
import { freshGates, type GateSource } from '../world/sim/gate-source.ts';
import { gatedDatabaseSteps } from '../world/sim/gated-steps.ts';
import type { Router } from '../world/sim/router.ts';
import { routerSteps } from '../world/sim/router-steps.ts';
import { SimScheduler, type SchedulerResult, type StepSource } from '../world/sim/scheduler.ts';
import { installDeterministicIds } from '../world/sim/sim-ids.ts';
import { installVirtualNow, removeVirtualNow, SET_VIRTUAL_NOW_SQL } from '../world/sim/sim-now.ts';
import type { VirtualClock } from '../world/sim/virtual-clock.ts';
import type { Database, Sql } from '../world/sql.ts';
import type { RunDrive } from './run-drive.ts';

/** A pipeline crash to its new instance subscribed again, in virtual ms: what a live restart took here (366 ms
 *  measured in a 500-device run), rounded up. Messages that arrive meanwhile find no subscriber (clean session). */
export const SIM_PIPELINE_RESTART_DOWN_MS = 400;

/** Gate connections: room for the pipeline's concurrent transactions (its lanes) and the ACK observer. */
const GATE_SLOTS = 6;
/** How often (wall ms) and how long a quiescent world is looked at again before the run counts as stuck. */
const QUIESCENT_RECHECK_MS = 1;
const QUIESCENT_RECHECKS_MAX = 5_000;

export interface SimDriveOptions {
  readonly seed: number;
  readonly clock: VirtualClock;
  /** In `delivery: 'manual'`, with the clock as its timers. */
  readonly router: Router;
  readonly stepsMax?: number;
  /** Where the gate comes from and goes back to (a sweep reuses one across runs). Default: a fresh one per run. */
  readonly gates?: GateSource;
  /** The database's chunk stamps on the virtual clock (sim-now.ts): for legacy-ttl, whose expiry judges their age. */
  readonly virtualNow?: boolean;
}

export interface SimDriveStats {
  readonly steps: number;
  readonly timersFired: number;
  readonly scheduleDigest: string;
  /** Steps chosen by kind: router deliveries, and gated statements released or results handed back. */
  readonly deliveries: number;
  readonly statements: number;
  /** Times the world had nothing to do while the run still waited (on real work outside the gate): each is a
   *  place where wall time, not the seed, decided what came next. 0 in a deterministic run. */
  readonly quiescentWaits: number;
}

export class SimDrive implements RunDrive {
  private gated: GatedDatabase | undefined;
  private scheduler: SimScheduler | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private last: SchedulerResult | undefined;
  private quiescentWaits = 0;
  private readonly chosen = { deliveries: 0, statements: 0 };
  private readonly settledListeners: (() => boolean)[] = [];

  private readonly gates: GateSource;
  readonly pipelineRestartDownMs = SIM_PIPELINE_RESTART_DOWN_MS;

  constructor(private readonly options: SimDriveOptions) {
    this.gates = options.gates ?? freshGates;
  }

  async open(scratchUrl: string, admin: Sql): Promise<void> {
    await installDeterministicIds(admin);
    const { clock } = this.options;
    let instantWrittenMs = clock.nowMs();
    // A database a sweep or an exploration reuses may hold an earlier legacy-ttl run's virtual-time DEFAULTs.
    if (this.options.virtualNow === true) await installVirtualNow(admin, instantWrittenMs);
    else await removeVirtualNow(admin);
    this.gated = await this.gates.open({
      url: scratchUrl,
      slots: GATE_SLOTS,
      mode: 'manual',
      applicationName: 'camfleet-sim',
      // Before a statement runs, the database's virtual instant is brought to the clock's — only once it moved,
      // and awaited inside the release, so the statement reads the instant it runs at.
      ...(this.options.virtualNow === true
        ? {
            beforeRelease: async (run: (text: string, values: readonly unknown[]) => Promise<void>) => {
              const nowMs = clock.nowMs();
              if (nowMs === instantWrittenMs) return;
              await run(SET_VIRTUAL_NOW_SQL, [nowMs]);
              instantWrittenMs = nowMs;
            },
          }
        : {}),
    });
    this.scheduler = new SimScheduler({
      rng: createRng(this.options.seed).fork('schedule'),
      clock: this.options.clock,
      sources: [
        counted(routerSteps(this.options.router), () => (this.chosen.deliveries += 1)),
        counted(gatedDatabaseSteps(this.gated), () => (this.chosen.statements += 1)),
      ],
      ...(this.options.stepsMax === undefined ? {} : { stepsMax: this.options.stepsMax }),
      onSettled: () => this.settledListeners.reduce((started, listener) => listener() || started, false),
    });
  }

  pipelineDatabase(): Database {
    // Owned by the pipeline's application name, as its pool's connections are live: what the kill fault picks.
    return leaseDatabase(this.opened().gated.as(PIPELINE_APPLICATION_NAME));
  }

  killPipelineConnections(): Promise<number> {
    return Promise.resolve(this.opened().gated.terminate(PIPELINE_APPLICATION_NAME));
  }

  actorSql(): Sql {
    return this.opened().gated;
  }

  pipelineClientId(instanceTag: string): string {
    // The network nemesis knows pipelines by this prefix (live-run.ts); the rest is the seed's, not randomBytes.
    const id = createRng(this.options.seed).fork('pipeline-client-id').int(0, 0x7fffffff);
    return `camfleet-pipeline-${instanceTag}-${id.toString(16).padStart(8, '0')}`;
  }

  async migrate(apply: (database: Database) => Promise<void>): Promise<void> {
    // An actor like a pipeline instance: a lease of the gate, so every statement is a step. New tables' DEFAULTs
    // (the cleanup's backup, the resume's duplicate log) are bound to pg_catalog's gen_random_uuid like the first
    // ones were (sim-ids.ts): rebound at once, through the gate, before any pipeline writes to them.
    const lease = leaseDatabase(this.opened().gated);
    try {
      await apply(lease);
      await installDeterministicIds(lease);
    } finally {
      await lease.end();
    }
  }

  onSettled(listener: () => boolean): void {
    this.settledListeners.push(listener);
  }

  start(): void {
    const { scheduler } = this.opened();
    if (this.loop !== undefined) throw new Error('SimDrive: already started');
    this.loop = this.run(scheduler);
    this.loop.catch(() => {}); // surfaced by stop()
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  async close(): Promise<void> {
    this.stopping = true;
    await this.loop?.catch(() => {});
    const gated = this.gated;
    this.gated = undefined;
    if (gated !== undefined) await this.gates.done(gated);
  }

  stats(): SimDriveStats {
    return {
      steps: this.last?.steps ?? 0,
      timersFired: this.last?.timersFired ?? 0,
      scheduleDigest: this.last?.scheduleDigest ?? '',
      ...this.chosen,
      quiescentWaits: this.quiescentWaits,
    };
  }

  private async run(scheduler: SimScheduler): Promise<void> {
    for (let rechecks = 0; ;) {
      this.last = await scheduler.runUntil(() => this.stopping);
      if (this.last.stop === 'done') return;
      if (this.last.stop === 'steps_max')
        throw new Error(`sim run: the scheduler reached stepsMax after ${this.last.steps} steps`);
      if (this.last.stop === 'stalled')
        throw new Error('sim run: only statements blocked on a lock nobody in the world holds were left');
      // Quiescent while the run has not stopped it: the run waits on real work the gate does not see. Wall time
      // then decides when the world goes on — counted, so a test can say it never happens.
      this.quiescentWaits += 1;
      if (++rechecks > QUIESCENT_RECHECKS_MAX)
        throw new Error('sim run: the world is quiescent (no step, no timer) but the run waits on it');
      await realClock.sleep(QUIESCENT_RECHECK_MS);
    }
  }

  private opened(): { gated: GatedDatabase; scheduler: SimScheduler } {
    if (this.gated === undefined || this.scheduler === undefined) throw new Error('SimDrive: open() first');
    return { gated: this.gated, scheduler: this.scheduler };
  }
}

/** The same source, counting the steps the scheduler runs from it. */
function counted(source: StepSource, onRun: () => void): StepSource {
  return {
    steps: () =>
      source.steps().map((step) => ({
        get label() {
          return step.label;
        },
        run: () => {
          onRun();
          step.run();
        },
      })),
    ...(source.settling === undefined ? {} : { settling: () => source.settling?.() }),
    ...(source.stalled === undefined ? {} : { stalled: () => source.stalled?.() }),
  };
}
