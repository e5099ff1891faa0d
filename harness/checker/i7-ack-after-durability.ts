// I7 ack after durability (ARCHITECTURE.md §3): no ACK_OK for an image precedes the commit that made it complete.
// Two observations: the harness's own (ack_observed.storedComplete: was the image complete in the database the
// moment the ACK reached the device?) and, where the pipeline reports them, the order of its own
// pipeline_committed / pipeline_acked events.
import { existingTables, queryRows, type Db } from './db.ts';
import type { PipelineStepFact, RunFacts } from './run-facts.ts';
import { evaluate, judge, type InvariantVerdict } from './verdict.ts';

export type AckProblem =
  | {
      readonly kind: 'ack_before_complete';
      readonly mac: string;
      readonly imageName: string;
      readonly sha256: string;
      readonly seq: number;
    }
  | {
      readonly kind: 'pipeline_ack_before_commit';
      readonly mac: string;
      readonly imageName: string;
      readonly ackSeq: number;
      readonly commitSeq: number;
    };

/**
 * pipeline_acked events that come before the first pipeline_committed of the same (mac, name). A commit counts for
 * the name in its event and for the wire name of the row it committed (`wireNameOf(imageId)`), since after a name
 * reuse the pipeline commits a disambiguated row while the device is acked under its wire name. Acks for a name
 * never committed are not judged here (the harness's ack_observed covers them).
 */
export function pipelineAcksBeforeCommit(
  steps: readonly PipelineStepFact[],
  wireNameOf: (imageId: string) => string | undefined = () => undefined,
): Extract<AckProblem, { kind: 'pipeline_ack_before_commit' }>[] {
  const firstCommit = new Map<string, number>();
  for (const step of steps) {
    if (step.kind !== 'committed') continue;
    const names = new Set([step.imageName, wireNameOf(step.imageId) ?? step.imageName]);
    for (const name of names) {
      const key = `${step.mac}|${name}`;
      const seen = firstCommit.get(key);
      if (seen === undefined || step.seq < seen) firstCommit.set(key, step.seq);
    }
  }
  const problems: Extract<AckProblem, { kind: 'pipeline_ack_before_commit' }>[] = [];
  for (const step of steps) {
    if (step.kind !== 'acked') continue;
    const commitSeq = firstCommit.get(`${step.mac}|${step.imageName}`);
    if (commitSeq !== undefined && step.seq < commitSeq) {
      problems.push({
        kind: 'pipeline_ack_before_commit',
        mac: step.mac,
        imageName: step.imageName,
        ackSeq: step.seq,
        commitSeq,
      });
    }
  }
  return problems.sort((a, b) => a.ackSeq - b.ackSeq);
}

/** image_id → wire name of the committed rows still in the database (best effort: none when it cannot be read). */
async function wireNames(db: Db, steps: readonly PipelineStepFact[]): Promise<Map<string, string>> {
  const ids = [...new Set(steps.flatMap((s) => (s.kind === 'committed' ? [s.imageId] : [])))];
  if (ids.length === 0) return new Map();
  try {
    if (!(await existingTables(db, ['device_images'])).has('device_images')) return new Map();
    const rows = await queryRows<{ image_id: string; wire_name: string }>(
      db,
      `SELECT image_id::text AS image_id, coalesce(metadata ->> 'image_name', image_name) AS wire_name
       FROM device_images WHERE image_id::text = ANY ($1::text[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.image_id, r.wire_name]));
  } catch {
    return new Map();
  }
}

export function checkAckAfterDurability(db: Db, facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I7', async () => {
    const early: AckProblem[] = facts.acks
      .filter((a) => !a.storedComplete)
      .map((a) => ({ kind: 'ack_before_complete', mac: a.mac, imageName: a.imageName, sha256: a.sha256, seq: a.seq }));
    const names = await wireNames(db, facts.pipelineSteps);
    const pipelineEarly = pipelineAcksBeforeCommit(facts.pipelineSteps, (id) => names.get(id));
    const pipelineAcks = facts.pipelineSteps.filter((s) => s.kind === 'acked').length;
    return judge('I7', [...early, ...pipelineEarly], {
      pass: `${facts.acks.length} ACK_OKs observed, all after the image was complete; ${pipelineAcks} pipeline acks, none before its commit`,
      fail:
        `${early.length} of ${facts.acks.length} ACK_OKs reached a device before the image was complete; ` +
        `${pipelineEarly.length} of ${pipelineAcks} pipeline acks before its commit`,
    });
  });
}
