// Metadata → the transfer to open (PROTOCOL.md §3, §6): what is written for a create / resume / duplicate decision,
// what the store's answer means, and what a failed plain-SQL INSERT means for each profile. Pure: the store writes
// the request and reports back plain facts.
import { parseDeviceTimestamp, type Dialect, type Metadata } from '../../../simulator/protocol/index.ts';
import type { MetadataDecision } from './metadata.ts';
import { metadataRecord } from './metadata.ts';
import type { ProfilePolicy } from './profile.ts';

/** The route of a device's wire name to its image row (image_transfers), as metadata announces it. */
export interface TransferRoute {
  readonly deviceId: string;
  readonly wireName: string;
  readonly captureTimestamp: string;
  readonly imageSize: number;
  readonly totalChunks: number;
}

/** A transfer to open (a new row) or resume (`existingImageId`), with the metadata record to store. */
export interface OpenRequest {
  readonly route: TransferRoute;
  readonly storedName: string;
  readonly capturedAtIso: string;
  readonly metadata: Record<string, unknown>;
  readonly existingImageId: string | null;
}

export type OpenResult =
  | {
      readonly ok: true;
      readonly imageId: string;
      readonly isResume: boolean;
      /** The row was found complete (another writer finished it meanwhile): treat the metadata as a re-send. */
      readonly alreadyComplete: boolean;
      readonly receivedChunks: number;
    }
  /** fn_wake_ingestion_handler answered success:false (its error code and message). */
  | { readonly ok: false; readonly code: string; readonly message: string };

/** A metadata decision that names a row to write to (everything but a refusal). */
export type RoutedDecision = Exclude<MetadataDecision, { readonly kind: 'reject' }>;

/**
 * The request a routed metadata decision writes: the stored name it chose, the route, the capture time (the
 * server's `nowMs` when the device's is unusable, PROTOCOL.md §3) and the metadata record. The service and
 * legacy-two-writers' edge writer build theirs here alike, so the two writers race over the same statement.
 */
export function openRequestFor(
  m: Metadata,
  decision: RoutedDecision,
  at: { readonly deviceId: string; readonly dialect: Dialect; readonly nowMs: number },
): OpenRequest {
  const storedName = decision.kind === 'create' ? decision.storedName : decision.image.imageName;
  const captureTime = parseDeviceTimestamp(m.timestamp, at.nowMs);
  return {
    route: {
      deviceId: at.deviceId,
      wireName: m.image_name,
      captureTimestamp: m.timestamp,
      imageSize: m.image_size,
      totalChunks: m.total_chunk_count,
    },
    storedName,
    capturedAtIso: new Date(captureTime.ms).toISOString(),
    metadata: metadataRecord(m, { dialect: at.dialect, captureTime, storedName }),
    existingImageId: decision.kind === 'create' ? null : decision.image.imageId,
  };
}

export type OpenedVerdict =
  /** The handler refused: a failure of the message (recorded as internal_error with this reason). */
  | { readonly kind: 'refused'; readonly reason: string }
  /** Completed by another writer between our read and the write: this metadata is a re-send. */
  | { readonly kind: 'found_complete'; readonly imageId: string }
  /** Opened or resumed: chunks go to this row now. */
  | {
      readonly kind: 'receiving';
      readonly imageId: string;
      readonly isResume: boolean;
      readonly receivedChunks: number;
    };

export function judgeOpened(storedName: string, opened: OpenResult): OpenedVerdict {
  if (!opened.ok) {
    return {
      kind: 'refused',
      reason: `fn_wake_ingestion_handler refused ${storedName}: ${opened.code} ${opened.message}`.trim(),
    };
  }
  return opened.alreadyComplete
    ? { kind: 'found_complete', imageId: opened.imageId }
    : { kind: 'receiving', imageId: opened.imageId, isResume: opened.isResume, receivedChunks: opened.receivedChunks };
}

/** Postgres' unique_violation SQLSTATE. */
export const UNIQUE_VIOLATION = '23505';

/** The SQLSTATE of a database error (pg puts it in `code`), if it is one. */
export function sqlStateOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export type InsertFailureVerdict =
  /** Not a unique violation: the error is the message's (an internal error). */
  | { readonly kind: 'rethrow' }
  /** legacy-insert on a stage with the unique key: the INSERT is refused, and so is the message. */
  | { readonly kind: 'refuse'; readonly code: 'unique_violation'; readonly reason: string }
  /** legacy-two-writers lost the race to the edge writer: resume the row that won. */
  | { readonly kind: 'resume_winner'; readonly logLine: string };

/** What a failed plain-SQL INSERT of a new row means (store/legacy.ts insertImageRow). */
export function judgeInsertFailure(
  policy: ProfilePolicy,
  sqlState: string | undefined,
  storedName: string,
  errorText: string,
): InsertFailureVerdict {
  if (sqlState !== UNIQUE_VIOLATION) return { kind: 'rethrow' };
  if (policy.onInsertConflict === 'refuse') {
    return {
      kind: 'refuse',
      code: 'unique_violation',
      reason: `INSERT of ${storedName} failed: a row of that name exists (${errorText})`,
    };
  }
  return {
    kind: 'resume_winner',
    logLine: `pipeline: service writer lost the INSERT race for ${storedName} (23505); resuming that row`,
  };
}

/** What legacy-two-writers' edge writer writes: a create or a resume decision of its own. */
export type EdgeWrite = Extract<MetadataDecision, { readonly kind: 'create' | 'resume' }>;

/**
 * legacy-two-writers' edge writer: what it does with its own reading of the rows. It inserts when it finds none
 * (the race: both writers may), resumes a row it finds unfinished (never resetting the count), and writes nothing
 * for a re-send or a refusal. Nobody routes chunks to what it writes.
 */
export function edgeWriteOf(decision: MetadataDecision): EdgeWrite | undefined {
  return decision.kind === 'create' || decision.kind === 'resume' ? decision : undefined;
}
