// What every phase of one run shares (live-run.ts builds it once): the run's options, hooks, clock, drive, history
// and seed, and the resources opened so far — one mutable record, filled in as the run opens things, so the
// teardown (run-teardown.ts) closes exactly what was opened, however far the run got.
import type { Rng } from '../../simulator/random/prng.ts';
import type { RunnableFleet } from '../fleet/fleet.ts';
import type { History } from '../history/history.ts';
import type { Broker } from '../world/broker.ts';
import type { Clock, TimerHandle } from '../world/clock.ts';
import type { openRunDatabase, RunDatabase } from '../world/database.ts';
import type { PipelineSet } from './pipeline-set.ts';
import type { RunDrive } from './run-drive.ts';
import type { LiveRunOptions } from './run-options.ts';
import type { RunHooks } from './run-types.ts';

export interface RunContext {
  readonly options: LiveRunOptions;
  readonly hooks: RunHooks;
  /** The run's one clock (the world's when one is given). */
  readonly clock: Clock;
  readonly drive: RunDrive | undefined;
  readonly history: History;
  /** The seed's Rng; each part forks its own stream off it by name. */
  readonly rng: Rng;
  /** Wall time the run started: the time budget and the run's wallMs measure this process. */
  readonly startedMs: number;
  /** `--pipeline external`: the user's service is the pipeline. */
  readonly external: boolean;
  /** How the run's database is opened (RunSeams.openDatabase; default openRunDatabase). */
  readonly openDatabase: typeof openRunDatabase;
}

/** Everything the teardown must stop or close; undefined until opened. */
export interface RunResources {
  /** Timers of the run's clock, cleared at the end whatever happens. */
  readonly timers: TimerHandle[];
  /** Stopped in reverse order, after the pipelines and before the broker. */
  readonly cleanups: (() => Promise<void>)[];
  db: RunDatabase | undefined;
  broker: Broker | undefined;
  pipelines: PipelineSet | undefined;
  fleet: RunnableFleet | undefined;
  /** Wall-time intervals (the progress display) and timeouts (the time budget). */
  progressTimer: NodeJS.Timeout | undefined;
  budgetTimer: NodeJS.Timeout | undefined;
}

export function emptyRunResources(): RunResources {
  return {
    timers: [],
    cleanups: [],
    db: undefined,
    broker: undefined,
    pipelines: undefined,
    fleet: undefined,
    progressTimer: undefined,
    budgetTimer: undefined,
  };
}

/** The run database outlives the run when asked (or for an external pipeline), and only on an external server. */
export function keepsDatabase(options: LiveRunOptions, external: boolean, db: RunDatabase | undefined): boolean {
  return (options.keepDatabase || external) && db?.server.kind === 'external';
}
