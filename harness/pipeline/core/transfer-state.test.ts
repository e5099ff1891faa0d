// The transfer state machine (pure): each step by example, then properties over any sequence of events.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { CompletionOutcome } from './facts.ts';
import {
  chunkArrival,
  isSettled,
  isSweepable,
  stateOfStoredRow,
  transferStep,
  type TransferEvent,
  type TransferState,
  type TransferStep,
} from './transfer-state.ts';

const STATES: readonly TransferState[] = ['receiving', 'completing', 'complete', 'failed'];
const OUTCOMES: readonly CompletionOutcome['kind'][] = [
  'completed',
  'already_complete',
  'incomplete',
  'invalid',
  'gone',
];
const completion = (outcome: CompletionOutcome['kind']): TransferEvent => ({ kind: 'completion', outcome });

/** The step with every effect off, for comparing against. */
const quiet = (state: TransferState): TransferStep => ({
  state,
  requestCompletion: false,
  ack: null,
  recordCommit: false,
  releaseHeldChunks: false,
  forgetKnownChunks: false,
  count: null,
  log: null,
});

describe('transferStep by example', () => {
  test('the happy path: all stored → completing (one completion queued) → completed → complete, commit, then ACK', () => {
    const queued = transferStep('receiving', { kind: 'all_stored' });
    expect(queued).toEqual({ ...quiet('completing'), requestCompletion: true });
    expect(transferStep(queued.state, completion('completed'))).toEqual({
      ...quiet('complete'),
      ack: 'own_commit',
      recordCommit: true,
      releaseHeldChunks: true,
      count: 'imagesCompleted',
    });
  });

  test('all stored again while completing or complete queues nothing (one completion at a time)', () => {
    expect(transferStep('completing', { kind: 'all_stored' })).toEqual(quiet('completing'));
    expect(transferStep('complete', { kind: 'all_stored' })).toEqual(quiet('complete'));
    // A failed transfer whose chunks are all stored again is tried again.
    expect(transferStep('failed', { kind: 'all_stored' })).toEqual({ ...quiet('completing'), requestCompletion: true });
  });

  test('already complete (another writer) → complete, acknowledged as found_complete, no commit of ours', () => {
    expect(transferStep('completing', completion('already_complete'))).toEqual({
      ...quiet('complete'),
      ack: 'found_complete',
      releaseHeldChunks: true,
    });
  });

  test('incomplete → receiving, nothing else (the sweeper asks for the rest)', () => {
    expect(transferStep('completing', completion('incomplete'))).toEqual(quiet('receiving'));
  });

  test('invalid → failed, counted and logged, never acknowledged; gone → failed and logged', () => {
    expect(transferStep('completing', completion('invalid'))).toEqual({
      ...quiet('failed'),
      count: 'imagesFailed',
      log: 'verification_failed',
    });
    expect(transferStep('completing', completion('gone'))).toEqual({ ...quiet('failed'), log: 'row_gone' });
  });

  test('a completion call that failed → receiving and logged; a complete transfer stays complete (still logged)', () => {
    expect(transferStep('completing', { kind: 'completion_failed' })).toEqual({
      ...quiet('receiving'),
      log: 'completion_failed',
    });
    expect(transferStep('complete', { kind: 'completion_failed' })).toEqual({
      ...quiet('complete'),
      log: 'completion_failed',
    });
  });

  test('complete is not undone by an older reading: incomplete / invalid / gone leave it complete, quietly', () => {
    for (const outcome of ['incomplete', 'invalid', 'gone'] as const) {
      expect(transferStep('complete', completion(outcome))).toEqual(quiet('complete'));
    }
  });

  test('metadata: opening revives a failed transfer only; finding the row complete acknowledges from anywhere', () => {
    expect(transferStep('failed', { kind: 'opened' })).toEqual(quiet('receiving'));
    for (const s of ['receiving', 'completing', 'complete'] as const) {
      expect(transferStep(s, { kind: 'opened' })).toEqual(quiet(s));
    }
    for (const s of STATES) {
      expect(transferStep(s, { kind: 'found_complete' })).toEqual({ ...quiet('complete'), ack: 'found_complete' });
    }
  });

  test('expired chunks are forgotten unless the image is complete; the state stays', () => {
    for (const s of ['receiving', 'completing', 'failed'] as const) {
      expect(transferStep(s, { kind: 'expired' })).toEqual({ ...quiet(s), forgetKnownChunks: true });
    }
    expect(transferStep('complete', { kind: 'expired' })).toEqual(quiet('complete'));
  });
});

describe('stored rows, chunks, sweeps', () => {
  test('a route read back takes its state from the row (complete, failed, anything else receiving)', () => {
    expect(stateOfStoredRow('complete')).toBe('complete');
    expect(stateOfStoredRow('failed')).toBe('failed');
    for (const s of ['receiving', 'pending', null, 'whatever']) expect(stateOfStoredRow(s)).toBe('receiving');
  });

  test('the duplicate-chunk rule: settled transfers and known chunks are duplicates; others are stored', () => {
    expect(chunkArrival('receiving', false)).toBe('store');
    expect(chunkArrival('completing', false)).toBe('store');
    expect(chunkArrival('receiving', true)).toBe('duplicate');
    expect(chunkArrival('completing', true)).toBe('duplicate');
    expect(chunkArrival('complete', false)).toBe('duplicate');
    expect(chunkArrival('failed', false)).toBe('duplicate');
  });

  test('settled and sweepable', () => {
    expect(STATES.filter(isSettled)).toEqual(['complete', 'failed']);
    expect(STATES.filter(isSweepable)).toEqual(['receiving']);
  });
});

const eventArb: fc.Arbitrary<TransferEvent> = fc.oneof(
  fc.constant<TransferEvent>({ kind: 'all_stored' }),
  fc.constantFrom(...OUTCOMES).map(completion),
  fc.constant<TransferEvent>({ kind: 'completion_failed' }),
  fc.constant<TransferEvent>({ kind: 'opened' }),
  fc.constant<TransferEvent>({ kind: 'found_complete' }),
  fc.constant<TransferEvent>({ kind: 'expired' }),
);
/** Where a transfer starts: bound by metadata (receiving), or read back from its row after a restart. */
const initialArb = fc
  .constantFrom<string | null>('receiving', 'pending', 'complete', 'failed', null)
  .map(stateOfStoredRow);

interface Walked {
  readonly from: TransferState;
  readonly event: TransferEvent;
  readonly step: TransferStep;
}

function walk(initial: TransferState, events: readonly TransferEvent[]): Walked[] {
  let state = initial;
  return events.map((event) => {
    const step = transferStep(state, event);
    const w = { from: state, event, step };
    state = step.state;
    return w;
  });
}

const isDurablyComplete = (e: TransferEvent): boolean =>
  e.kind === 'found_complete' ||
  (e.kind === 'completion' && (e.outcome === 'completed' || e.outcome === 'already_complete'));

describe('transferStep properties (any sequence of events, from any start)', () => {
  const sequences = fc.tuple(initialArb, fc.array(eventArb, { maxLength: 40 }));

  test('no sequence acknowledges before a completion outcome completed / already_complete (or the row found complete), and the basis names it', () => {
    fc.assert(
      fc.property(sequences, ([initial, events]) => {
        const walked = walk(initial, events);
        const firstDurable = events.findIndex(isDurablyComplete);
        const firstAck = walked.findIndex((w) => w.step.ack !== null);
        if (firstDurable < 0) expect(firstAck).toBe(-1);
        else if (firstAck >= 0) expect(firstAck).toBeGreaterThanOrEqual(firstDurable);
        for (const { event, step } of walked) {
          if (step.ack === null) continue;
          expect(isDurablyComplete(event)).toBe(true);
          const ownCommit = event.kind === 'completion' && event.outcome === 'completed';
          expect(step.ack).toBe(ownCommit ? 'own_commit' : 'found_complete');
        }
      }),
    );
  });

  test('complete is absorbing', () => {
    fc.assert(
      fc.property(sequences, ([initial, events]) => {
        let seen = initial === 'complete';
        for (const { step } of walk(initial, events)) {
          if (seen) expect(step.state).toBe('complete');
          seen ||= step.state === 'complete';
        }
      }),
    );
  });

  test('failed is entered only from a completion outcome invalid or gone', () => {
    fc.assert(
      fc.property(sequences, ([initial, events]) => {
        for (const { from, event, step } of walk(initial, events)) {
          if (step.state === 'failed' && from !== 'failed') {
            expect(event.kind === 'completion' && (event.outcome === 'invalid' || event.outcome === 'gone')).toBe(true);
          }
        }
      }),
    );
  });

  test('at most one completion in flight: none is requested again before an outcome (or failure) of the last', () => {
    fc.assert(
      fc.property(sequences, ([initial, events]) => {
        let inFlight = false;
        for (const { from, event, step } of walk(initial, events)) {
          if (event.kind === 'completion' || event.kind === 'completion_failed') inFlight = false;
          if (step.requestCompletion) {
            expect(inFlight).toBe(false);
            expect(from === 'receiving' || from === 'failed').toBe(true);
            expect(step.state).toBe('completing');
            inFlight = true;
          }
        }
      }),
    );
  });

  test('effects belong to their states: a commit is recorded with its own ACK and count; held chunks go only once complete; a complete image forgets nothing', () => {
    fc.assert(
      fc.property(sequences, ([initial, events]) => {
        for (const { step } of walk(initial, events)) {
          if (step.recordCommit) {
            expect(step.ack).toBe('own_commit');
            expect(step.count).toBe('imagesCompleted');
          }
          if (step.releaseHeldChunks || step.ack !== null) expect(step.state).toBe('complete');
          if (step.count === 'imagesFailed') expect(step.state).toBe('failed');
          if (step.forgetKnownChunks) expect(step.state).not.toBe('complete');
        }
      }),
    );
  });
});
