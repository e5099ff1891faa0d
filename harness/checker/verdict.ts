// The checker's output (ARCHITECTURE.md §3): one verdict per invariant — pass, fail or unknown, never a thrown
// exception — with a one-line summary and the first offending items, so a failure names what broke.

/** I1–I9 always; M1 (the migration) only for runs that migrate mid-run; E1 (exercised) for runs with planned
 *  faults or named exercises (exercises.ts): never `fail`, `unknown` when the run missed its point. */
export type InvariantId = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I7' | 'I8' | 'I9' | 'M1' | 'E1';

export type Verdict = 'pass' | 'fail' | 'unknown';

export interface InvariantVerdict {
  readonly id: InvariantId;
  /** Short, e.g. `unique`. */
  readonly name: string;
  readonly description: string;
  readonly verdict: Verdict;
  /** One line with counts; for `unknown`, the reason. */
  readonly summary: string;
  /** The first OFFENDING_SHOWN_MAX offending rows or items. */
  readonly offending: readonly unknown[];
  /** How many there were in all. */
  readonly offendingCount: number;
}

/** How many offending items a verdict carries (the count says how many there were). */
export const OFFENDING_SHOWN_MAX = 20;

/** The invariants every run is checked for, in order (M1 is added for runs that migrate). */
export const invariantIds = [
  'I1',
  'I2',
  'I3',
  'I4',
  'I5',
  'I6',
  'I7',
  'I8',
  'I9',
] as const satisfies readonly InvariantId[];

/** Names and statements, as ARCHITECTURE.md §3 gives them. */
export const invariantInfo: Readonly<Record<InvariantId, { readonly name: string; readonly description: string }>> = {
  I1: { name: 'unique', description: 'no two device_images rows share (device_id, image_name), at every schema stage' },
  I2: {
    name: 'no-loss',
    description: 'every image a device removed from its queue after ACK_OK is stored complete with its original bytes',
  },
  I3: {
    name: 'integrity',
    description:
      'a complete row has received_chunks = total_chunks, a blob of image_size bytes with JPEG markers, hashing to one capture',
  },
  I4: { name: 'progress-kept', description: 'received_chunks of an image never goes back (resume never resets it)' },
  I5: {
    name: 'liveness',
    description: 'after the heal phase every captured image is complete, every device queue empty, no row in flight',
  },
  I6: {
    name: 'duplicates-logged',
    description: 'a re-announced complete image adds a duplicate_images_log row and no image row',
  },
  I7: { name: 'ack-after-durability', description: 'no ACK_OK for an image precedes the commit that made it complete' },
  I8: { name: 'no-phantoms', description: 'no device_images row for an image no device captured' },
  I9: {
    name: 'malformed-recorded',
    description: 'every malformed message a device sent has a rejected_messages row with its reason',
  },
  M1: {
    name: 'migration',
    description: 'the cleanup kept exactly the best row of each group and the backup holds exactly the deleted rows',
  },
  E1: {
    name: 'exercised',
    description: 'every planned fault fired and the run did what its scenario names (else unknown, never pass)',
  },
};

function make(id: InvariantId, verdict: Verdict, summary: string, offending: readonly unknown[]): InvariantVerdict {
  return {
    id,
    ...invariantInfo[id],
    verdict,
    summary,
    offending: offending.slice(0, OFFENDING_SHOWN_MAX),
    offendingCount: offending.length,
  };
}

export function passed(id: InvariantId, summary: string): InvariantVerdict {
  return make(id, 'pass', summary, []);
}

export function failed(id: InvariantId, summary: string, offending: readonly unknown[]): InvariantVerdict {
  return make(id, 'fail', summary, offending);
}

export function unknown(id: InvariantId, summary: string): InvariantVerdict {
  return make(id, 'unknown', summary, []);
}

/** Fail when anything offends, else pass (or `unknown` with `unknownReason` when part could not be decided). */
export function judge(
  id: InvariantId,
  offending: readonly unknown[],
  summaries: { readonly pass: string; readonly fail: string },
  unknownReason?: string,
): InvariantVerdict {
  if (offending.length > 0) return failed(id, summaries.fail, offending);
  if (unknownReason !== undefined) return unknown(id, `${summaries.pass}; ${unknownReason}`);
  return passed(id, summaries.pass);
}

/**
 * Runs one invariant's evaluation; anything it throws (an SQL error, a missing table, a malformed history) becomes
 * an `unknown` verdict with the reason, never an exception.
 */
export async function evaluate(id: InvariantId, run: () => Promise<InvariantVerdict>): Promise<InvariantVerdict> {
  try {
    return await run();
  } catch (error) {
    return unknown(id, `could not evaluate: ${errorText(error)}`);
  }
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${error.message} (SQLSTATE ${code})` : error.message;
  }
  return String(error);
}
