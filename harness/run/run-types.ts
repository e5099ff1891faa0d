// What a run reports and what it is given besides its options: the progress a display shows, the result a report
// prints, the caller's hooks and the world's seams (ARCHITECTURE.md §8). Apart from live-run.ts so that its phases
// (run-setup.ts, fault-wiring.ts, phases.ts, check-phase.ts, run-teardown.ts) can name them without importing the
// file that sequences them.
import type { Shard } from './shard.ts';
import type { InvariantVerdict } from '../checker/index.ts';
import type { FleetCounters } from '../fleet/fleet-counters.ts';
import type { History } from '../history/history.ts';
import type { PipelineStats } from '../pipeline/index.ts';
import type { ForwarderStats } from '../forwarder/forwarder.ts';
import type { Broker } from '../world/broker.ts';
import type { Clock } from '../world/clock.ts';
import type { openRunDatabase } from '../world/database.ts';
import type { Sql } from '../world/sql.ts';
import type { World } from '../world/world.ts';
import type { RunDrive } from './run-drive.ts';

export interface RunProgress {
  readonly fleet: FleetCounters;
  readonly pipeline: PipelineStats | undefined;
  readonly elapsedMs: number;
  /** `fleet` (faults on), `heal` (faults off, clean wakes) or `done`. */
  readonly phase: 'fleet' | 'heal' | 'done';
  /** A fault being injected right now (a pipeline restarting, a migration), so a stall has a name. */
  readonly injecting: { readonly fault: string; readonly trigger: string } | undefined;
  /** The firmware's silence timeout: how long a device that got no answer waits before it re-sends. */
  readonly ackTimeoutMs: number;
}

export interface LiveRunResult {
  readonly verdict: 'pass' | 'fail' | 'unknown';
  readonly verdicts: readonly InvariantVerdict[];
  readonly aborted: boolean;
  readonly fleet: FleetCounters;
  /** Complete image rows in the run's database after the run (undefined: not read, e.g. a shard's). */
  readonly imagesComplete?: number | undefined;
  readonly pipeline: PipelineStats;
  /** The webhook forwarder's counters, in a run that forwarded (`--forward-webhook`). */
  readonly webhook?: ForwarderStats;
  readonly wallMs: number;
  /** From the first wake to the last device done (heal phase included). */
  readonly fleetMs: number;
  readonly peakRssBytes: number;
  /** The broker the run opened, or `sim` (the in-memory router) / `external` (a live world the caller gave). */
  readonly brokerKind: Broker['kind'] | 'sim';
  readonly databaseKind: 'embedded' | 'external';
  readonly databaseName: string;
  /** The run database's URL when it was kept (`keepDatabase` on an external server; for `--pipeline external`). */
  readonly keptDatabaseUrl: string | undefined;
  /** Faults injected, by name (from the history's nemesis events). */
  readonly faultsInjected: Readonly<Record<string, number>>;
  readonly history: History;
  /** A shard's run (LiveRunOptions.shard): its history is stored for `npm run check`, nothing was judged. */
  readonly shard?: Shard & { readonly devices: { readonly from: number; readonly to: number } };
}

export interface RunHooks {
  /** Start-up steps, for a "starting…" line. */
  onPhase?(phase: string): void;
  /** Something the user should see even on a terminal with a progress bar (e.g. the devices awake at once were
   *  capped to the open-files limit). Default: onPhase. */
  onWarning?(line: string): void;
  onProgress?(progress: RunProgress): void;
  progressIntervalMs?: number;
  /** Stops the run early (Ctrl-C): like an exhausted time budget, the verdict is then at best unknown. */
  signal?: AbortSignal;
  /** Called as the fleet starts, for scripted interventions (a scenario's operator re-inserting rows), planned on
   *  the run's fault scheduler like its faults. `db` is the world's: the admin pool live, the gate in sim (each
   *  statement a step of the schedule). */
  onFleetStart?(world: {
    db: Sql;
    history: History;
    plan(fault: string, trigger: string, work: () => Promise<void>): void;
  }): void;
}

/** What a run is given besides its options: the seams a world provides (ARCHITECTURE.md §8). */
export interface RunSeams {
  /** The run's one clock: fleet, pipelines, nemeses, broker restarts and the history's atMs all read it, and the
   *  quiet period waits on it. Default realClock. (The time budget, the progress display and the run's wall time
   *  are wall time whatever the clock.) */
  readonly clock?: Clock;
  /** The world the fleet and the pipelines talk through, owned by the caller; instead of the broker the run would
   *  open (no `brokerUrl`, no external pipeline, no network faults: see run-world.ts). Its clock is the run's clock
   *  (a different `clock` beside it is refused). Default: a live world over aedes or `brokerUrl`. */
  readonly world?: World;
  /** What moves the world while the fleet, heal and quiet phases run, and the database the actors use meanwhile
   *  (run-drive.ts): the sim world's seeded scheduler and gated database (sim-run.ts). Default: none, the live
   *  world moves by itself and the actors use pg pools. With a drive, the pipelines are stopped (drained) before
   *  the check phase, while the world still moves. */
  readonly drive?: RunDrive;
  /** Opens the run's database (default openRunDatabase: a fresh scratch database, dropped at close). A sweep
   *  (sweep-database.ts) hands out one database reset between runs instead. */
  readonly openDatabase?: typeof openRunDatabase;
}
