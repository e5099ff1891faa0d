// Where explore runs its cases: one database server for the whole exploration and, per lane, the run database of
// each stage reset between runs and the gate's connections kept (what a sweep shares, harness/run/sweep.ts) —
// nothing that reaches a run's history, so a case gives the same run here, in any lane, as alone
// (`scenario run --file … --mode sim`).
import { openDatabaseServer } from '../db/server.ts';
import type { DatabaseServer } from '../db/database-server.ts';
import type { LiveRunOptions } from '../run/run-options.ts';
import { runSim, type SimRunResult } from '../run/sim-run.ts';
import { SweepDatabases } from '../run/sweep-database.ts';
import { ReusedGates } from '../world/sim/gate-source.ts';

/** One lane: runs one case at a time on databases of its own. */
export interface ExploreLane {
  run(options: LiveRunOptions): Promise<SimRunResult>;
}

export class ExploreWorld {
  readonly lanes: readonly ExploreLane[];
  private readonly closers: (() => Promise<void>)[] = [];

  private constructor(
    private readonly server: DatabaseServer,
    laneCount: number,
  ) {
    this.lanes = Array.from({ length: laneCount }, () => {
      const databases = new SweepDatabases(server.url);
      const gates = new ReusedGates();
      this.closers.push(async () => {
        await gates.close();
        await databases.close();
      });
      return {
        run: (options: LiveRunOptions) =>
          runSim({ ...options, databaseUrl: server.url }, {}, { openDatabase: databases.openerFor(options), gates }),
      };
    });
  }

  /** `databaseUrl`: a server to use (DATABASE_URL); else the embedded one is started. `lanes`: cases at once. */
  static async open(databaseUrl: string | undefined, lanes = 1): Promise<ExploreWorld> {
    const server = await openDatabaseServer({ databaseUrl });
    return new ExploreWorld(server, Math.max(1, lanes));
  }

  /** The server's URL, for the options of a run. */
  get serverUrl(): string {
    return this.server.url;
  }

  /** Runs on the first lane (the shrink and the confirming run). */
  run(options: LiveRunOptions): Promise<SimRunResult> {
    return (this.lanes[0] as ExploreLane).run(options);
  }

  async close(): Promise<void> {
    for (const close of this.closers) await close();
    await this.server.stop();
  }
}
