// The progress display's feed: the fleet's counters, the pipeline's, the phase and the fault being injected,
// every `progressIntervalMs` of wall time — it refreshes for the person watching, however fast the run's clock goes.
import type { RunnableFleet } from '../fleet/fleet.ts';
import type { FaultScheduler } from '../nemesis/fault-scheduler.ts';
import type { PipelineSet } from './pipeline-set.ts';
import type { RunContext, RunResources } from './run-context.ts';
import type { RunProgress } from './run-types.ts';

export class RunProgressFeed {
  phase: RunProgress['phase'] = 'fleet';
  readonly #run: RunContext;
  readonly #fleet: RunnableFleet;
  readonly #pipelines: PipelineSet | undefined;
  readonly #scheduler: FaultScheduler;
  readonly #resources: RunResources;

  constructor(
    run: RunContext,
    fleet: RunnableFleet,
    pipelines: PipelineSet | undefined,
    scheduler: FaultScheduler,
    resources: RunResources,
  ) {
    this.#run = run;
    this.#fleet = fleet;
    this.#pipelines = pipelines;
    this.#scheduler = scheduler;
    this.#resources = resources;
  }

  now(): RunProgress {
    return {
      fleet: this.#fleet.counters,
      pipeline: this.#pipelines?.stats(),
      elapsedMs: Date.now() - this.#run.startedMs, // wall time: what the person watching has waited
      phase: this.phase,
      injecting: this.#scheduler.injecting,
      ackTimeoutMs: this.#run.options.ackTimeoutMs,
    };
  }

  /** Starts the feed; its timer is a run resource, so the teardown clears it if the run fails first. */
  start(): void {
    const hooks = this.#run.hooks;
    this.#resources.progressTimer = setInterval(() => hooks.onProgress?.(this.now()), hooks.progressIntervalMs ?? 250);
  }

  /** The fleet is done: the feed stops, with one last report marked `done`. */
  finish(): void {
    clearInterval(this.#resources.progressTimer);
    this.phase = 'done';
    this.#run.hooks.onProgress?.(this.now());
  }
}
