// The gated database's statements and results as scheduler steps (scheduler.ts): which connection's next statement
// runs, and when a caller gets its result back, are the scheduler's seeded choices — so the select-then-insert race
// of two writers is a schedule, not luck. A released statement runs in real Postgres; the scheduler waits for it
// through `settling()` before it chooses again. The gate must be in manual mode.
import { realClock } from '../live/real-clock.ts';
import type { GatedDatabase } from './gated-database.ts';
import type { SimStep, StepSource } from './scheduler.ts';

/** How long to wait before asking Postgres again when every gated statement waits on a lock (a deadlock that
 *  Postgres' detector is about to break, after its deadlock_timeout): real time, because Postgres decides it. */
const ALL_BLOCKED_RECHECK_MS = 50;

const FIRST_WORD = /^\s*(\S*)/;
const verb = (text: string): string => FIRST_WORD.exec(text)?.[1]?.toUpperCase() ?? '';

/** Labels name the connection slot and the statement's verb, not the gate's arrival ids (those go on counting
 *  across runs on one gate): the schedule of a seed reads the same on a fresh gate and on a reused one. */
export function gatedDatabaseSteps(db: GatedDatabase, name = 'sql'): StepSource {
  return {
    steps: (): SimStep[] => [
      // Labels are read only for the step chosen: built then, not for every step offered.
      ...db.ready().map((r) => ({
        get label() {
          return `${name} result slot ${r.slot} ${verb(r.text)} ${r.ok ? 'ok' : (r.code ?? 'error')}`;
        },
        run: () => void db.deliver(r),
      })),
      ...db.pending().map((s) => ({
        get label() {
          return `${name} run slot ${s.slot} ${verb(s.text)}`;
        },
        run: () => void db.release(s),
      })),
    ],
    settling: () => db.settling(),
    // Blocked statements wait on a lock some gated transaction holds; its next step (a timer, a delivery, its
    // COMMIT) ends the wait, so they are no reason to stop choosing. Only when nothing else can happen (a deadlock
    // Postgres is about to break, or a lock held outside the gate) the scheduler asks here.
    stalled: () => {
      if (db.blocked().length === 0) return undefined;
      return db.recheck().then(async (changed) => {
        if (!changed) await realClock.sleep(ALL_BLOCKED_RECHECK_MS);
        return changed;
      });
    },
  };
}
