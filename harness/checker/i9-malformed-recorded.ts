// I9 malformed messages are recorded (project rule "bad input … loses nothing"): every malformed message a device
// sent (device_sent_malformed: the corrupt-message fault) has a rejected_messages row on its topic with the code the
// protocol's decoder gives it (simulator/protocol/reject.ts). Counted per (topic, code): n messages sent need rows
// standing for n (a row counts `messages` refusals: more than 1 for a device past the pipeline's cap per minute).
// A message may never have reached the pipeline, or its row may have been lost with a crashed pipeline's buffer (the
// reference pipeline batches rejection rows and a crash discards the batch), when a fault that loses messages struck
// after it was sent (a dropped delivery on its topic, a broker or pipeline restart, killed database connections, its
// device's session cut or power lost). Such a message may be absent — as ARCHITECTURE.md §3 lets a capture a fault
// made unknowable be absent — and is counted in the summary as possibly lost; a row missing for any other message is
// a failure. The history cannot say how soon after the send the row was safe, so any later such fault exempts it.
// rejected_messages is camfleet's pipeline table (schema/004_pipeline.sql): without it, I9 is `unknown`.
import { existingTables, queryRows, type Db } from './db.ts';
import type { FaultFact, MalformedSendFact, RunFacts } from './run-facts.ts';
import { evaluate, failed, passed, unknown, type InvariantVerdict } from './verdict.ts';

export interface UnrecordedMalformed {
  readonly mac: string;
  readonly topic: string;
  readonly expectedCode: string;
  readonly kinds: readonly string[];
  readonly sent: number;
  readonly recorded: number;
}

/** Faults after which a sent message may be lost before the pipeline records it, for any device. */
const LOSING_FAULTS_ANY = new Set(['broker_restart', 'pipeline_restart', 'kill_db_connections']);
/** …for the device it targets (its session or its power cut while the publish was queued). */
const LOSING_FAULTS_DEVICE = new Set(['disconnect', 'reboot', 'torn_write']);

/** May this message have been lost on its way to rejected_messages, by what the history shows? A restart
 *  scheduled by trigger lasts from its `nemesis` event to its `fault_done`. */
export function mayBeLost(send: MalformedSendFact, faults: readonly FaultFact[]): boolean {
  return messageMayBeLost(send, (topic) => topic === send.topic, faults);
}

/** The same question for any message a device sent at `seq` on a topic `onTopic` accepts (I6: a re-announcement). */
export function messageMayBeLost(
  send: { readonly seq: number; readonly mac: string },
  onTopic: (topic: string | undefined) => boolean,
  faults: readonly FaultFact[],
): boolean {
  return faults.some(
    (f) =>
      // after the send, or still in progress when it was sent (a restarting pipeline has no subscriber yet)
      (f.seq > send.seq || (f.endSeq !== undefined && f.endSeq > send.seq)) &&
      (LOSING_FAULTS_ANY.has(f.fault) ||
        (LOSING_FAULTS_DEVICE.has(f.fault) && f.target === send.mac) ||
        (f.fault === 'drop' && onTopic(f.detail))),
  );
}

export function checkMalformedRecorded(db: Db, facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I9', async () => {
    const sends = facts.malformedSends;
    if (sends.length === 0) return passed('I9', '0 malformed messages sent');
    const present = await existingTables(db, ['rejected_messages']);
    if (!present.has('rejected_messages')) {
      return unknown(
        'I9',
        `${sends.length} malformed messages sent; not checkable: table rejected_messages does not exist (a pipeline that does not record rejections there)`,
      );
    }
    const groups = new Map<string, MalformedSendFact[]>();
    for (const send of sends) {
      const key = `${send.topic}\u0000${send.expectedCode}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [send]);
      else group.push(send);
    }
    const topics = [...new Set(sends.map((s) => s.topic))];
    const rows = await queryRows<{ topic: string; code: string; n: number }>(
      db,
      `SELECT topic, code, sum(messages)::int AS n FROM rejected_messages WHERE topic = ANY ($1::text[]) GROUP BY topic, code`,
      [topics],
    );
    const recorded = new Map(rows.map((r) => [`${r.topic}\u0000${r.code}`, r.n]));

    const offending: UnrecordedMalformed[] = [];
    let possiblyLost = 0;
    for (const [key, group] of groups) {
      const first = group[0];
      if (first === undefined) continue;
      const n = recorded.get(key) ?? 0;
      const missing = group.length - n;
      if (missing <= 0) continue;
      const excused = group.filter((s) => mayBeLost(s, facts.faults)).length;
      if (missing <= excused) {
        possiblyLost += missing;
        continue;
      }
      offending.push({
        mac: first.mac,
        topic: first.topic,
        expectedCode: first.expectedCode,
        kinds: [...new Set(group.map((s) => s.kind))],
        sent: group.length,
        recorded: n,
      });
    }
    const counted = `${sends.length} malformed messages sent (${groups.size} topic/code pairs)`;
    if (offending.length > 0) {
      const lost = offending.reduce((sum, o) => sum + o.sent - o.recorded, 0);
      return failed('I9', `${lost} of ${counted} have no rejected_messages row with their code`, offending);
    }
    if (possiblyLost > 0) {
      return passed(
        'I9',
        `${counted}, each recorded in rejected_messages with its code but ${possiblyLost} sent before a fault that may have lost it (exempt)`,
      );
    }
    return passed('I9', `${counted}, each recorded in rejected_messages with its code`);
  });
}
