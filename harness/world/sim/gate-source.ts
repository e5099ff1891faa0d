// Where a sim run's gated database comes from. A run alone opens its own and aborts it at the end; a seed sweep
// (harness/run/sweep.ts) keeps one per lane and hands it to the lane's next run when the last one left it
// reusable — opening a gate's connections (one backend process each) was about a third of a 5-device run's
// set-up. Nothing of a run reaches the next through it: every transaction has ended, no statement waits, and
// the schedule's labels do not name the gate's statement ids (gated-steps.ts). sweep.test.ts checks that seed k
// in a sweep gives the history it gives alone.
import { openGatedDatabase, type GatedDatabase, type GatedDatabaseOptions } from './gated-database.ts';

export interface GateSource {
  open(options: GatedDatabaseOptions): Promise<GatedDatabase>;
  /** The run is done with `gate`: kept for the next run if it is reusable, else aborted. */
  done(gate: GatedDatabase): Promise<void>;
}

/** One gate per run (the default). */
export const freshGates: GateSource = {
  open: openGatedDatabase,
  done: (gate) => gate.abort(),
};

/** A gate kept between the runs of one sweep lane (runs one after another): at most one, handed back when the next
 *  run asks for a gate on the same database with the same options, else aborted; close() aborts what is kept. */
export class ReusedGates implements GateSource {
  private kept: { readonly key: string; readonly gate: GatedDatabase } | undefined;
  private readonly keys = new WeakMap<GatedDatabase, string>();

  async open(options: GatedDatabaseOptions): Promise<GatedDatabase> {
    // A gate with a hook of its run's (beforeRelease closes over that run's clock) is that run's alone.
    const key =
      options.beforeRelease === undefined
        ? JSON.stringify([options.url, options.slots, options.mode, options.applicationName])
        : undefined;
    const kept = this.kept;
    this.kept = undefined;
    if (key !== undefined && kept?.key === key && kept.gate.reusable) return kept.gate;
    // Another database (a new one after a run that changed its schema) or a gate left unusable.
    await kept?.gate.abort();
    const gate = await openGatedDatabase(options);
    if (key !== undefined) this.keys.set(gate, key);
    return gate;
  }

  async done(gate: GatedDatabase): Promise<void> {
    const key = this.keys.get(gate);
    if (key === undefined || !gate.reusable || this.kept !== undefined) return gate.abort();
    this.kept = { key, gate };
  }

  async close(): Promise<void> {
    const kept = this.kept;
    this.kept = undefined;
    await kept?.gate.abort();
  }
}
