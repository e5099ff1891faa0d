// Server faults on a schedule (ARCHITECTURE.md §4): the pipeline crashes and restarts mid-transfer, and every
// database connection of the pipeline is killed (`pg_terminate_backend`). Each is recorded when injected. Healing:
// the restarted pipeline resumes from its durable chunk store; the pipeline's pool replaces killed connections and
// its writes are retried. Two instances and a slow database are set up by the run (a second pipeline,
// `slow-db-proxy.ts`), not scheduled here.
import type pg from 'pg';
import type { History } from '../history/history.ts';
import type { ServerFaults } from './fault-plan.ts';

/** What the run gives the nemesis to act on the pipeline with. */
export interface PipelineControl {
  /** Crash the pipeline (in-memory state lost, no drain) and start it again; resolves once it serves again. */
  crashAndRestart(): Promise<void>;
}

/**
 * The pipeline's pool must set this `application_name` (pg.Pool option `application_name`) — or one starting
 * with it, e.g. `camfleet-pipeline-<instance>` — so its backends can be told from the harness's own connections.
 */
export const PIPELINE_APPLICATION_NAME = 'camfleet-pipeline';

export interface ServerNemesisOptions {
  readonly faults: ServerFaults;
  readonly history: History;
  /** A pool on the same database as the pipeline; its own backend is never terminated. */
  readonly adminPool: pg.Pool;
  readonly control: PipelineControl;
  /** Backends whose `application_name` starts with this are the pipeline's. Default PIPELINE_APPLICATION_NAME. */
  readonly applicationNamePrefix?: string;
}

export interface ServerNemesisStats {
  readonly pipelineRestarts: number;
  readonly killRounds: number;
  readonly backendsKilled: number;
  /** Faults that could not be injected (the run reports them; a fault that silently did nothing is a defect). */
  readonly errors: readonly string[];
}

export interface ServerNemesis {
  stats(): ServerNemesisStats;
  /** Clears every pending timer and waits for an injection in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Terminates every backend of the current database whose application_name starts with `prefix`, except the
 * caller's own. Returns how many were terminated.
 */
export async function killBackends(adminPool: pg.Pool, prefix: string): Promise<number> {
  const { rows } = await adminPool.query<{ killed: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS killed
       FROM pg_stat_activity
      WHERE datname = current_database()
        AND pid <> pg_backend_pid()
        AND starts_with(coalesce(application_name, ''), $1)`,
    [prefix],
  );
  return rows[0]?.killed ?? 0;
}

/** Schedules the plan's server faults; every time in it is ms after this call. */
export function startServerNemesis(options: ServerNemesisOptions): ServerNemesis {
  const { faults, history, adminPool, control } = options;
  const prefix = options.applicationNamePrefix ?? PIPELINE_APPLICATION_NAME;
  const timers = new Set<NodeJS.Timeout>();
  const errors: string[] = [];
  let pipelineRestarts = 0;
  let killRounds = 0;
  let backendsKilled = 0;
  let stopped = false;
  // Injections run one after another: a restart still in progress delays the next fault rather than overlapping it.
  let chain: Promise<void> = Promise.resolve();

  const enqueue = (work: () => Promise<void>): void => {
    chain = chain.then(async () => {
      if (stopped) return;
      try {
        await work();
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    });
  };

  const at = (ms: number, work: () => Promise<void>): void => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        enqueue(work);
      },
      Math.max(0, ms),
    );
    timers.add(timer);
  };

  const restartPipeline = async (): Promise<void> => {
    pipelineRestarts++;
    history.append({ type: 'nemesis', fault: 'pipeline_restart', target: 'pipeline' });
    await control.crashAndRestart();
  };

  const killConnections = async (): Promise<void> => {
    const killed = await killBackends(adminPool, prefix);
    killRounds++;
    backendsKilled += killed;
    history.append({
      type: 'nemesis',
      fault: 'kill_db_connections',
      target: `application_name ${prefix}*`,
      detail: String(killed),
    });
  };

  for (const ms of faults.pipelineRestartAtMs) at(ms, restartPipeline);
  for (const ms of faults.killConnectionsAtMs) at(ms, killConnections);
  return {
    stats: () => ({ pipelineRestarts, killRounds, backendsKilled, errors: [...errors] }),
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await chain;
    },
  };
}
