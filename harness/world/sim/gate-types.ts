// The gated database's vocabulary (gated-database.ts): its options, what its controller sees (statements at the
// gate, results waiting to be handed back), and its own bookkeeping of statements and slots.
import type { SqlResult, Statement } from '../sql.ts';
import type { GateConnection } from './gate-connection.ts';

export interface GatedDatabaseOptions {
  readonly url: string;
  /** Connections (at least 1): as many statements as this can be in flight at once, one per transaction. */
  readonly slots: number;
  readonly applicationName?: string;
  /** 'auto' (default): the gate runs itself (runAll after every arrival). 'manual': the controller does. */
  readonly mode?: 'auto' | 'manual';
  readonly connectionTimeoutMs?: number;
  /** Awaited in release() before a statement is sent, with a way to run a statement of its own on the gate's
   *  watcher connection (autocommit, never a slot): a sim run writes its virtual instant there (sim-now.ts). */
  readonly beforeRelease?: (run: (text: string, values: readonly unknown[]) => Promise<void>) => Promise<void>;
}

/** A statement at the gate, as the controller sees it. */
export interface GatedStatement {
  /** Arrival order, from 1: the stable order of pending() and ready(). */
  readonly id: number;
  readonly slot: number;
  readonly text: string;
  readonly values: readonly unknown[];
}

/** A finished statement whose result the caller has not been given yet. */
export interface GatedResult extends GatedStatement {
  readonly ok: boolean;
  readonly rowCount: number;
  /** SQLSTATE of a failed statement (e.g. 23505), or undefined. */
  readonly code: string | undefined;
}

export type ReleaseOutcome = 'completed' | 'blocked';

export type Outcome =
  { readonly ok: true; readonly result: SqlResult<unknown> } | { readonly ok: false; readonly error: unknown };

export interface Entry extends GatedStatement {
  readonly statement: string | Statement;
  readonly slotRef: Slot;
  state: 'pending' | 'running' | 'blocked' | 'ready' | 'done';
  outcome: Outcome | undefined;
  /** Settles when the server has answered (either way). */
  readonly answered: Promise<void>;
  markAnswered(): void;
  readonly resolve: (result: SqlResult<unknown>) => void;
  readonly reject: (error: unknown) => void;
}

export interface Slot {
  readonly index: number;
  readonly connection: GateConnection;
  held: boolean;
  /** A statement ran since the slot was handed out (a broken connection is replaced only before the first). */
  used: boolean;
  /** Statements waiting at the gate on this slot, in arrival order; only the first may be released. */
  readonly queue: Entry[];
  /** The statement on the server (running or blocked). */
  active: Entry | undefined;
  /** Who holds the slot (GatedDatabase.as): what terminate() picks backends by, as application_name live. */
  owner: string | undefined;
  /** terminate() picked it while held: its next statement fails with this, and its connection closes first. */
  terminated: Error | undefined;
}

/** What pg hands a client whose backend pg_terminate_backend ended (SQLSTATE 57P01, admin_shutdown): the error a
 *  pipeline sees live when the kill-connections fault strikes, so the same retry policy applies in sim. */
export function adminShutdownError(): Error {
  return Object.assign(new Error('terminating connection due to administrator command'), {
    code: '57P01',
    severity: 'FATAL',
  });
}

/** What the controller sees of an entry. */
export function view(e: Entry): GatedStatement {
  return { id: e.id, slot: e.slot, text: e.text, values: e.values };
}
