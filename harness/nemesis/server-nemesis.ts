// Server faults by trigger (ARCHITECTURE.md §4): the pipeline crashes and restarts mid-transfer, and every
// database connection of the pipeline is killed (`pg_terminate_backend`). Each is recorded when injected. Healing:
// the restarted pipeline resumes from its durable chunk store; the pipeline's pool replaces killed connections and
// its writes are retried. Two instances and a slow database are set up by the run (a second pipeline,
// `slow-db-proxy.ts`), not scheduled here.
import type pg from 'pg';
import type { History } from '../history/history.ts';
import type { FaultScheduler } from './fault-scheduler.ts';
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
  /** Fires each fault when its trigger is due (fault-scheduler.ts). */
  readonly scheduler: FaultScheduler;
  /** A pool on the same database as the pipeline; its own backend is never terminated. */
  readonly adminPool: pg.Pool;
  readonly control: PipelineControl;
  /** Backends whose `application_name` starts with this are the pipeline's. Default PIPELINE_APPLICATION_NAME. */
  readonly applicationNamePrefix?: string;
  /** How the kill strikes (a sim world's gate, RunDrive.killPipelineConnections); resolves to the connections
   *  killed. Default: killBackends on the admin pool. */
  readonly killConnections?: () => Promise<number>;
}

export interface ServerNemesisStats {
  readonly pipelineRestarts: number;
  readonly killRounds: number;
  readonly backendsKilled: number;
}

export interface ServerNemesis {
  stats(): ServerNemesisStats;
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

/** Plans the plan's server faults on the scheduler; they fire when their triggers are due. */
export function planServerFaults(options: ServerNemesisOptions): ServerNemesis {
  const { faults, history, adminPool, control, scheduler } = options;
  const prefix = options.applicationNamePrefix ?? PIPELINE_APPLICATION_NAME;
  let pipelineRestarts = 0;
  let killRounds = 0;
  let backendsKilled = 0;

  const restartPipeline = async (): Promise<void> => {
    pipelineRestarts++;
    history.append({ type: 'nemesis', fault: 'pipeline_restart', target: 'pipeline' });
    await control.crashAndRestart();
  };

  const killConnections = async (): Promise<void> => {
    const killed = await (options.killConnections?.() ?? killBackends(adminPool, prefix));
    killRounds++;
    backendsKilled += killed;
    history.append({
      type: 'nemesis',
      fault: 'kill_db_connections',
      target: `application_name ${prefix}*`,
      detail: String(killed),
    });
  };

  for (const trigger of faults.pipelineRestartAt) scheduler.plan('pipeline_restart', trigger, restartPipeline);
  for (const trigger of faults.killConnectionsAt) scheduler.plan('kill_db_connections', trigger, killConnections);
  return { stats: () => ({ pipelineRestarts, killRounds, backendsKilled }) };
}
