// The transfer state machine: what this process believes of one image transfer, and what each event makes it do.
// Pure (ARCHITECTURE.md §6): the service applies the step — sets the state, queues the completion, sends the
// ACK_OK, releases held chunks, counts and logs — and decides nothing itself.
//
//   receiving ─all_stored─▶ completing ─completion: completed | already_complete─▶ complete (absorbing)
//   completing ─completion: incomplete, completion_failed─▶ receiving
//   completing ─completion: invalid | gone─▶ failed ─opened (metadata resumes it) | all_stored─▶ receiving | completing
//   any state ─found_complete (metadata found the row complete)─▶ complete
//   expired (legacy-ttl) changes no state: known chunks are forgotten unless complete.
//
// I7: the only steps that acknowledge are those whose event is a durable fact that the row is complete — this
// process's committed completion (own_commit), or the row found complete (found_complete). A restarted pipeline's
// owed ACKs (recovered) are sent without a transfer (core/ack.ts).
import type { AckBasis } from './ack.ts';
import type { CompletionOutcome } from './facts.ts';

export type TransferState = 'receiving' | 'completing' | 'complete' | 'failed';

export type TransferEvent =
  /** Every chunk of the transfer is stored (a flush's count, the memory store's, a resume that found them all, or
   *  the sweeper finding none missing): complete it. */
  | { readonly kind: 'all_stored' }
  /** The completing transaction's answer. */
  | { readonly kind: 'completion'; readonly outcome: CompletionOutcome['kind'] }
  /** The completing call itself failed (a database error, after its retries): there is no outcome. */
  | { readonly kind: 'completion_failed' }
  /** Metadata opened or resumed this transfer's row (the device is sending it again). */
  | { readonly kind: 'opened' }
  /** Metadata found this transfer's row complete: a re-send of a stored image, or another writer completed it. */
  | { readonly kind: 'found_complete' }
  /** legacy-ttl: this transfer's stored chunks were deleted. */
  | { readonly kind: 'expired' };

export interface TransferStep {
  readonly state: TransferState;
  /** Queue a completion (assemble, verify, commit: store/completion.ts). At most one is in flight per transfer. */
  readonly requestCompletion: boolean;
  /** Send ACK_OK on this basis, or none. */
  readonly ack: AckBasis | null;
  /** The commit was this process's: append `pipeline_committed` to the history, before the ACK_OK. */
  readonly recordCommit: boolean;
  /** legacy-memory-chunks: the image is stored; the chunks held for it can go. */
  readonly releaseHeldChunks: boolean;
  /** Forget which chunks are known, so that re-sent chunks are stored again (they were deleted). */
  readonly forgetKnownChunks: boolean;
  readonly count: 'imagesCompleted' | 'imagesFailed' | null;
  /** What to log (the service words it: it knows the names and the outcome's reason). */
  readonly log: 'verification_failed' | 'row_gone' | 'completion_failed' | null;
}

const stay = (state: TransferState): TransferStep => ({
  state,
  requestCompletion: false,
  ack: null,
  recordCommit: false,
  releaseHeldChunks: false,
  forgetKnownChunks: false,
  count: null,
  log: null,
});

// Steps are values the hot path may return often: built once.
const STAY: { readonly [S in TransferState]: TransferStep } = {
  receiving: stay('receiving'),
  completing: stay('completing'),
  complete: stay('complete'),
  failed: stay('failed'),
};
const START_COMPLETION: TransferStep = { ...stay('completing'), requestCompletion: true };
const COMMITTED: TransferStep = {
  ...stay('complete'),
  ack: 'own_commit',
  recordCommit: true,
  releaseHeldChunks: true,
  count: 'imagesCompleted',
};
const ALREADY_COMPLETE: TransferStep = { ...stay('complete'), ack: 'found_complete', releaseHeldChunks: true };
const FOUND_COMPLETE: TransferStep = { ...stay('complete'), ack: 'found_complete' };
const INVALID: TransferStep = { ...stay('failed'), count: 'imagesFailed', log: 'verification_failed' };
const GONE: TransferStep = { ...stay('failed'), log: 'row_gone' };
const COMPLETION_FAILED: TransferStep = { ...stay('receiving'), log: 'completion_failed' };
const COMPLETION_FAILED_WHEN_COMPLETE: TransferStep = { ...stay('complete'), log: 'completion_failed' };
const FORGET: { readonly [S in TransferState]: TransferStep } = {
  receiving: { ...STAY.receiving, forgetKnownChunks: true },
  completing: { ...STAY.completing, forgetKnownChunks: true },
  complete: STAY.complete,
  failed: { ...STAY.failed, forgetKnownChunks: true },
};

export function transferStep(state: TransferState, event: TransferEvent): TransferStep {
  switch (event.kind) {
    case 'all_stored':
      // One completion at a time per transfer; a complete one needs none. A failed transfer whose chunks are all
      // stored again (re-sent after a failed verification) is tried again.
      return state === 'completing' || state === 'complete' ? STAY[state] : START_COMPLETION;
    case 'completion':
      return afterCompletion(state, event.outcome);
    case 'completion_failed':
      // The sweeper will find it idle with every chunk stored and try again.
      return state === 'complete' ? COMPLETION_FAILED_WHEN_COMPLETE : COMPLETION_FAILED;
    case 'opened':
      return state === 'failed' ? STAY.receiving : STAY[state];
    case 'found_complete':
      return FOUND_COMPLETE;
    case 'expired':
      return FORGET[state];
  }
}

function afterCompletion(state: TransferState, outcome: CompletionOutcome['kind']): TransferStep {
  switch (outcome) {
    case 'completed':
      return COMMITTED;
    case 'already_complete':
      return ALREADY_COMPLETE;
    case 'incomplete':
      // Chunks are still missing (not an error): the transfer goes on. Complete stays complete: a row found
      // complete meanwhile is not un-completed by an older reading.
      return state === 'complete' ? STAY.complete : STAY.receiving;
    case 'invalid':
      return state === 'complete' ? STAY.complete : INVALID;
    case 'gone':
      return state === 'complete' ? STAY.complete : GONE;
  }
}

/** The state of a transfer read back from its durable route (a chunk after a restart, or adoption at start). */
export function stateOfStoredRow(status: string | null): TransferState {
  return status === 'complete' ? 'complete' : status === 'failed' ? 'failed' : 'receiving';
}

/**
 * A valid chunk for a transfer in `state` → store it, or count it as a duplicate: the image is settled (complete,
 * or failed until metadata opens it again), or this process has the chunk already (stored or on its way).
 */
export function chunkArrival(state: TransferState, alreadyKnown: boolean): 'store' | 'duplicate' {
  return isSettled(state) || alreadyKnown ? 'duplicate' : 'store';
}

/** Complete or failed: nothing is on its way for it until metadata opens it again (a cache may drop it). */
export function isSettled(state: TransferState): boolean {
  return state === 'complete' || state === 'failed';
}

/** Only a receiving transfer is asked for missing chunks (a completing one is being assembled; a settled one needs
 *  nothing). */
export function isSweepable(state: TransferState): boolean {
  return state === 'receiving';
}
