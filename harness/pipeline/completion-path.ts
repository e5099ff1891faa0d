// Completion and ACK_OK (ARCHITECTURE.md §3 I3, I7): a transfer whose chunks are all stored is completed in one
// transaction (store/completion.ts, or from memory for legacy-memory-chunks), and the transfer state machine
// (core/transfer-state.ts) turns the outcome into the next state and what to do — count, log, release held chunks,
// record the commit, and acknowledge only on its basis. Once the broker has an ACK_OK, nothing is owed for it
// (`fixed`: image_acks_owed).
import { ackOkMessage, owedAckRecord, wakeAtIso, type AckBasis, type AckTarget } from './core/ack.ts';
import type { CompletionOutcome } from './core/facts.ts';
import { transferStep, type TransferEvent, type TransferStep } from './core/transfer-state.ts';
import { GroupCall } from './group-call.ts';
import type { ServiceContext } from './service-context.ts';
import { settleOwedAcks } from './store/acks-owed.ts';
import { completeImages, type CompletionRequest } from './store/completion.ts';
import { completeFromMemory } from './store/legacy.ts';
import { errorText, withRetry } from './store/pool.ts';
import type { Transfer } from './transfers.ts';

/** Completions are written in batches of this many, one batch at a time. */
const COMPLETION_BATCH_MAX = 200;
const COMPLETION_ATTEMPTS = 3;
const COMPLETION_FAILED: TransferEvent = { kind: 'completion_failed' };

export class CompletionPath {
  private readonly completions: GroupCall<CompletionRequest, CompletionOutcome>;
  /** Profiles that record owed ACKs: ACK_OKs the broker has taken, so nothing is owed for them any more. */
  private readonly ackReceipts: GroupCall<string, true> | undefined;

  constructor(private readonly ctx: ServiceContext) {
    const { o, pool, memory } = ctx;
    // One batch at a time: a batch locks its image rows in order, but the devices rows it stamps in any order.
    this.completions = new GroupCall(
      (reqs) =>
        withRetry(
          COMPLETION_ATTEMPTS,
          () =>
            memory === undefined
              ? completeImages(pool, reqs)
              : completeFromMemory(pool, reqs, (id) => memory.chunksOf(id)),
          (error, attempt) =>
            o.log(`pipeline: completing ${reqs.length} images failed (attempt ${attempt}): ${errorText(error)}`),
          o.clock,
        ),
      { maxBatch: COMPLETION_BATCH_MAX, concurrency: 1 },
    );
    this.ackReceipts = ctx.policy.recordsOwedAcks
      ? new GroupCall(
          async (ids) => {
            await ctx.retried(() => settleOwedAcks(pool, ids), 'settling acks');
            return ids.map(() => true as const);
          },
          { maxBatch: 500, concurrency: 1 },
        )
      : undefined;
  }

  /** Completes `tr` (the Completer runs this at most once at a time per transfer) and applies the outcome's step. */
  async complete(tr: Transfer): Promise<void> {
    const o = this.ctx.o;
    const wakeMs = o.nextWakeMs(tr.mac, o.clock.nowMs());
    const ackFirst = o.ackBeforeCommitForTest;
    if (ackFirst !== undefined) {
      // Test only (options.ts): the broken ordering the ACK-ordering test must catch.
      this.sendAck(tr, wakeMs, 'own_commit');
      await ackFirst();
    }
    let outcome: CompletionOutcome;
    try {
      const ackOwed = owedAckRecord(this.ctx.policy, tr);
      outcome = await this.completions.call({
        imageId: tr.imageId,
        nextWakeAtIso: wakeAtIso(wakeMs),
        ...(ackOwed === undefined ? {} : { ackOwed }),
      });
    } catch (error) {
      const step = transferStep(tr.state, COMPLETION_FAILED);
      tr.state = step.state;
      if (step.log !== null) o.log(`pipeline: could not complete ${tr.mac} ${tr.storedName}: ${errorText(error)}`);
      return;
    }
    const step = transferStep(tr.state, { kind: 'completion', outcome: outcome.kind });
    tr.state = step.state;
    if (step.releaseHeldChunks) this.ctx.memory?.release(tr.imageId);
    if (step.count !== null) this.ctx.counters[step.count]++;
    if (step.recordCommit) {
      o.history?.append({ type: 'pipeline_committed', mac: tr.mac, imageName: tr.wireName, imageId: tr.imageId });
      await o.afterCompletionCommit?.({ mac: tr.mac, imageName: tr.wireName });
    }
    if (step.log !== null) o.log(describeOutcome(tr, outcome, step));
    // The test-only ordering sent its ACK before the commit already.
    if (step.ack !== null && !(step.ack === 'own_commit' && ackFirst !== undefined)) this.sendAck(tr, wakeMs, step.ack);
  }

  /**
   * ACK_OK only ever follows the commit that made the image complete, or finding it complete (I7): callers hold
   * that guarantee (a step of the transfer state machine, or an owed ACK read back). Once the broker has it,
   * nothing is owed for the image any more.
   */
  sendAck(target: AckTarget, wakeMs: number, basis: AckBasis): void {
    const { o, counters } = this.ctx;
    const message = ackOkMessage(target, wakeMs, o.clock.nowMs(), o.ackNamesCapture);
    this.ctx.send(target.mac, target.dialect, message, async () => {
      counters.acksSent++;
      o.history?.append({ type: 'pipeline_acked', mac: target.mac, imageName: target.wireName, basis });
      await this.ackReceipts?.call(target.imageId).catch((error: unknown) => {
        o.log(`pipeline: could not settle the ack of ${target.mac} ${target.wireName}: ${errorText(error)}`);
      });
    });
  }
}

function describeOutcome(tr: Transfer, outcome: CompletionOutcome, step: TransferStep): string {
  if (step.log === 'verification_failed' && outcome.kind === 'invalid') {
    return `pipeline: ${tr.mac} ${tr.storedName} failed verification (error_code ${outcome.errorCode}): ${outcome.reason}; not acknowledged`;
  }
  if (step.log === 'row_gone') return `pipeline: ${tr.mac} ${tr.storedName}: image row ${tr.imageId} no longer exists`;
  return `pipeline: ${tr.mac} ${tr.storedName}: completion ${outcome.kind}`;
}
