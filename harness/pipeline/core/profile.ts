// The pipeline's profiles (ARCHITECTURE.md §5) and what each one changes, as data. `fixed` is the reference
// behaviour; each legacy profile reproduces ONE bug of the original system (PROTOCOL.md §7) and otherwise behaves
// like a working service, so that one invariant catches it (the table is in ../README.md):
// - `legacy-insert`: a new device_images row per metadata message, no lookup (§7.1) → I1 on the base stage;
// - `legacy-two-writers`: two select-then-insert writers per metadata message (§7.2) → I1 on the base stage;
// - `legacy-memory-chunks`: chunks and routes in process memory only, lost by a restart (§7.3) → I4 / I5 / I2;
// - `legacy-reset-count`: resume sets received_chunks back to 0 (§7.5) → I4;
// - `legacy-ttl`: stored chunks expire `chunkTtlMs` after the transfer's last chunk (§7.6) → I4 (and I5).
// The service reads a profile's policy and takes the branch it names: no other file asks which profile runs.

export const pipelineProfiles = [
  'fixed',
  'legacy-insert',
  'legacy-two-writers',
  'legacy-memory-chunks',
  'legacy-reset-count',
  'legacy-ttl',
] as const;
export type PipelineProfile = (typeof pipelineProfiles)[number];

export function isPipelineProfile(value: string): value is PipelineProfile {
  return (pipelineProfiles as readonly string[]).includes(value);
}

export interface ProfilePolicy {
  /** The schema it runs on (store/schema-check.ts): `pipeline` is schema/001..004, the resume migration's unique key
   *  and fn_* included; `base` is what the original ran on — the base tables (001) and camfleet's pipeline tables
   *  (004) — and any later stage too. */
  readonly needsStage: 'pipeline' | 'base';
  /** How metadata opens or resumes its row: `handler` is fn_wake_ingestion_handler with the route written in the
   *  same statement (the resume migration's way); `plain_sql` is the original's INSERT / UPDATE (store/legacy.ts),
   *  which runs on the base stage too. */
  readonly opensWith: 'handler' | 'plain_sql';
  /** Metadata reads the rows under its candidate names before deciding. legacy-insert reads nothing: every
   *  metadata message creates a row (§7.1). */
  readonly looksUpRows: boolean;
  /** legacy-two-writers: an "edge function" writer handles every metadata message too, at the same time (§7.2). */
  readonly edgeWriter: boolean;
  /** A plain-SQL INSERT that hits the unique key (23505, on a stage that has it): `refuse` the message (recorded
   *  as unique_violation), or, the writer having lost a race, `resume_winner` (resume the row that won). */
  readonly onInsertConflict: 'refuse' | 'resume_winner';
  /** legacy-reset-count: resuming sets received_chunks back to 0 (the original's UPDATE fallback, §7.5). */
  readonly resumeResetsCount: boolean;
  /** Where chunks live: image_chunks, or process memory (legacy-memory-chunks, §7.3), which also counts
   *  received_chunks as what it holds and completes from what it holds. */
  readonly chunksIn: 'database' | 'memory';
  /** Routes (wire name → row) are read back from image_transfers for a chunk this process has no route for. The
   *  original kept them in memory only: after a restart a chunk finds "no metadata" (§7.3). */
  readonly routesDurable: boolean;
  /** legacy-ttl: stored chunks of an unfinished transfer expire (§7.6). */
  readonly chunksExpire: boolean;
  /** How a re-send of a complete image is logged: fn_log_duplicate_image, or a plain INSERT into
   *  duplicate_images_log where the stage has that table. */
  readonly logsDuplicatesWith: 'function' | 'plain_sql';
  /** The completing transaction records the ACK_OK as owed (image_acks_owed), settled once the broker has it, and
   *  a restarted pipeline sends what its predecessor owed (basis `recovered`). */
  readonly recordsOwedAcks: boolean;
  /** A restarted pipeline takes over the transfers still in flight (image_transfers), so the sweeper asks their
   *  devices for what is missing. The original's in-memory service did not. */
  readonly adoptsInFlight: boolean;
}

/** The original service as it ran before the migration, its bugs left out: each legacy profile is this with its one
 *  bug put back (core/profile.test.ts checks that each changes only its own). */
export const ORIGINAL_SERVICE_POLICY: ProfilePolicy = {
  needsStage: 'base',
  opensWith: 'plain_sql',
  looksUpRows: true,
  edgeWriter: false,
  onInsertConflict: 'refuse',
  resumeResetsCount: false,
  chunksIn: 'database',
  routesDurable: true,
  chunksExpire: false,
  logsDuplicatesWith: 'plain_sql',
  recordsOwedAcks: false,
  adoptsInFlight: false,
};

export const PROFILE_POLICIES: { readonly [P in PipelineProfile]: ProfilePolicy } = {
  fixed: {
    ...ORIGINAL_SERVICE_POLICY,
    needsStage: 'pipeline',
    opensWith: 'handler',
    logsDuplicatesWith: 'function',
    recordsOwedAcks: true,
    adoptsInFlight: true,
  },
  'legacy-insert': { ...ORIGINAL_SERVICE_POLICY, looksUpRows: false },
  'legacy-two-writers': { ...ORIGINAL_SERVICE_POLICY, edgeWriter: true, onInsertConflict: 'resume_winner' },
  'legacy-memory-chunks': { ...ORIGINAL_SERVICE_POLICY, chunksIn: 'memory', routesDurable: false },
  'legacy-reset-count': { ...ORIGINAL_SERVICE_POLICY, resumeResetsCount: true },
  'legacy-ttl': { ...ORIGINAL_SERVICE_POLICY, chunksExpire: true },
};

export function policyOf(profile: PipelineProfile): ProfilePolicy {
  return PROFILE_POLICIES[profile];
}

/** How this profile logs a re-send of a complete image on this stage (I6): `none` where the stage has no
 *  duplicate_images_log (the base stage, for the legacy profiles). */
export function duplicateLogging(
  policy: ProfilePolicy,
  stageHasDuplicateLog: boolean,
): 'function' | 'plain_sql' | 'none' {
  if (policy.logsDuplicatesWith === 'function') return 'function';
  return stageHasDuplicateLog ? 'plain_sql' : 'none';
}

/** What metadata (re)opened: whether it resumed a row, and that row's received_chunks. */
export interface OpenedTransfer {
  readonly isResume: boolean;
  readonly receivedChunks: number;
}

/**
 * The received_chunks to write back when metadata (re)opens a transfer, or null to leave the row's. Only
 * legacy-memory-chunks writes one: it counts the chunks it holds in memory, and a transfer it resumes after a
 * restart holds none, so the row's progress goes back to that count (I4, the profile's bug) — written before the
 * device's next chunk is handled.
 */
export function receivedChunksRewrite(
  policy: ProfilePolicy,
  opened: OpenedTransfer,
  heldInMemory: number,
): number | null {
  if (policy.chunksIn === 'database') return null;
  return opened.isResume && opened.receivedChunks !== heldInMemory ? heldInMemory : null;
}

/** How many chunks a (re)opened transfer has stored: the row's count, or what legacy-memory-chunks holds. A resume
 *  that has them all completes at once (the pipeline stopped between the last chunk and the completion). */
export function storedOnOpen(policy: ProfilePolicy, opened: OpenedTransfer, heldInMemory: number): number {
  return policy.chunksIn === 'database' ? opened.receivedChunks : heldInMemory;
}
