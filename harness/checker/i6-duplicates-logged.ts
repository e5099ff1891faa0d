// I6 duplicates are logged, not stored (ARCHITECTURE.md §3): every re-announcement of a complete capture — a
// metadata message for a capture already stored complete when it reached the pipeline — adds its own
// duplicate_images_log row, and no image row.
//
// What the history and the database can tell (and what they cannot):
// - A capture's metadata sends are device_sent_metadata events (mac, sha256). The first one starts the transfer and
//   is never a re-announcement.
// - A later send is a re-announcement for certain ("definite") when it was published after the capture was known
//   stored complete: after it was settled (dequeued on ACK_OK, or an ACK_OK observed while the row was complete), or
//   after the pipeline's pipeline_committed of a row holding it (a message published after the commit reaches the
//   pipeline after it; I7 judges whether that commit was real).
// - Any other later send ("possible": a double send, duplicate metadata, a re-send after a lost ACK) was published
//   before that, and the broker may have delivered it before or after the commit: nothing in the database says which.
//   The pipeline's own pipeline_duplicate_logged events settle how many of them it handled as re-announcements; each
//   of those still needs its own row. A run without pipeline events (an external pipeline) leaves them `unknown`.
// - A log row is matched to a capture by device, name (the wire name, or the name or id of a row holding the
//   capture) and the capture timestamp in its duplicate_metadata. Rows the reference pipeline writes for a new
//   capture under a reused name (`camfleet_event: 'name_reuse'`, harness/pipeline/store/images.ts) are not
//   re-announcements and are left out.
// - Fewer rows than definite re-announcements fails (a re-announcement without a row, or one row for two). A row
//   matching no capture fails. A row for a capture announced only once, or more rows than re-announcements, fails
//   unless the history shows a fault that can deliver one message twice (a duplicated delivery, a redelivery after a
//   restart or cut session, two pipeline instances): then a second copy of a send may reach a pipeline after the
//   commit — the first send included (the other instance committed it) — and be logged.
// A row "holds" the capture when its blob hashes to the capture's sha256, or — a row without bytes yet — its wire name
// and capture timestamp are the capture's (a second row for the re-send has them too, whatever the pipeline named
// it). A row with bytes is judged by them alone: two captures can share a name and a timestamp (a counter reset on a
// device whose clock reads 1970 on both wakes), and the pipeline rightly stores the second under another name.
import { messageMayBeLost } from './i9-malformed-recorded.ts';
import { existingTables, MAC_SQL, queryRows, requireTables, storedImagesCte, type Db } from './db.ts';
import type { CaptureFact, RunFacts } from './run-facts.ts';
import { evaluate, failed, passed, unknown, type InvariantVerdict } from './verdict.ts';

export interface DuplicateProblem {
  readonly mac: string;
  readonly imageName: string;
  readonly sha256: string;
  /** Sends published after the capture was known stored complete. */
  readonly definiteReannouncements: number;
  /** Other sends after the first: maybe re-announcements (delivered before or after the commit). */
  readonly possibleReannouncements: number;
  readonly logRows: number;
  readonly problems: readonly string[];
  /** The rows that hold this capture. */
  readonly rows: readonly { readonly imageId: string; readonly imageName: string; readonly status: string | null }[];
}

/** A duplicate_images_log row that matches no capture of its device. */
export interface UnmatchedLogRow {
  readonly logId: string;
  readonly mac: string | null;
  readonly imageName: string | null;
  readonly captureTimestamp: string | null;
  readonly problem: string;
}

interface Holder {
  readonly imageId: string;
  readonly imageName: string;
  readonly status: string | null;
}

interface LogRow {
  readonly log_id: string;
  readonly mac: string | null;
  readonly image_name: string | null;
  readonly image_id: string | null;
  readonly capture_ts: string | null;
}

interface CaptureSends {
  readonly capture: CaptureFact;
  /** Seqs of its metadata sends, in order. */
  readonly sends: number[];
}

export function checkDuplicatesLogged(db: Db, facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I6', async () => {
    const announced = capturesWithSends(facts);
    const resent = announced.filter((c) => c.sends.length > 1);
    await requireTables(db, ['device_images', 'devices']);
    const present = await existingTables(db, ['image_blobs', 'duplicate_images_log']);
    const withBlobs = present.has('image_blobs');
    const withLog = present.has('duplicate_images_log');
    const logRows = withLog ? await duplicateLogRows(db) : [];
    if (resent.length === 0 && logRows.length === 0) return passed('I6', '0 re-announcements');
    const holders = await holdersOf(db, withBlobs, announced);
    const { byCapture, unmatched } = matchLogRows(logRows, announced, holders);
    const multiplied = facts.multiplyingFaults.length > 0 || facts.pipelineClientIds.length > 1;
    const pipelineReports = facts.pipelineSteps.length > 0 || facts.duplicateLogClaims.length > 0;
    const claims = claimsPerCapture(facts, announced);
    const completeSeqs = knownCompleteSeqs(facts);

    const offending: (DuplicateProblem | UnmatchedLogRow)[] = [];
    const undecided: string[] = [];
    let definiteTotal = 0;
    let possibleTotal = 0;
    let decidedByReports = 0;
    announced.forEach((c, i) => {
      const rows = holders[i] ?? [];
      const logged = byCapture[i] ?? 0;
      const knownCompleteSeq = knownCompleteAt(completeSeqs, c, rows);
      const later = c.sends.slice(1);
      const definiteSends = later.filter((seq) => knownCompleteSeq !== null && seq > knownCompleteSeq);
      // A re-announcement a fault may have lost on its way (a restart right after it) needs no row: like I9.
      const dataTopic = (topic: string | undefined) => topic?.endsWith(`/${c.capture.mac}/data`) === true;
      const definite = definiteSends.filter(
        (seq) => !messageMayBeLost({ seq, mac: c.capture.mac }, dataTopic, facts.faults),
      ).length;
      const possible = later.length - definiteSends.length;
      definiteTotal += definite;
      possibleTotal += possible;
      if (later.length === 0 && logged === 0) return;

      const problems: string[] = [];
      // Re-announced after it was stored: exactly its one row. Re-announced at all: never a second row (a re-send,
      // whenever it arrived, is no new image). No row at all for a send before completion is I2/I5's to judge.
      if ((definite > 0 && rows.length !== 1) || rows.length > 1) {
        problems.push(`${rows.length} image rows hold this capture, expected 1`);
      }
      if (withLog) {
        if (logged < definite) {
          problems.push(
            `${definite} re-announcements after it was stored complete but ${logged} duplicate_images_log rows`,
          );
        } else if (later.length === 0 && !multiplied) {
          problems.push(`${logged} duplicate_images_log rows, but the device announced it only once`);
        } else if (!multiplied && logged > later.length) {
          problems.push(`${logged} duplicate_images_log rows for at most ${later.length} re-announcements`);
        } else if (possible > 0 && logged < definite + possible) {
          if (pipelineReports) {
            const handled = Math.min(possible, Math.max(0, (claims[i] ?? 0) - definite));
            decidedByReports += 1;
            if (logged < definite + handled) {
              problems.push(
                `the pipeline reported logging ${definite + handled} re-announcements but ${logged} duplicate_images_log rows exist`,
              );
            }
          } else {
            undecided.push(
              `${c.capture.mac} ${c.capture.imageName}: ${possible} sends before it was known complete, ${logged - definite} logged`,
            );
          }
        }
      }
      if (problems.length > 0) {
        offending.push({
          mac: c.capture.mac,
          imageName: c.capture.imageName,
          sha256: c.capture.sha256,
          definiteReannouncements: definite,
          possibleReannouncements: possible,
          logRows: logged,
          problems,
          rows,
        });
      }
    });
    for (const row of unmatched) offending.push(row);

    const counted =
      `${resent.length} captures re-announced (${definiteTotal} after stored complete, ` +
      `${possibleTotal} before it was known), ${logRows.length - unmatched.length} log rows matched`;
    if (offending.length > 0) return failed('I6', `${offending.length} problems among ${counted}`, offending);
    if (!withLog) {
      return unknown(
        'I6',
        `${counted}; none held by a second row; log not checkable: table duplicate_images_log does not exist (pre-resume stage)`,
      );
    }
    if (undecided.length > 0) {
      return unknown(
        'I6',
        `${counted}; for ${undecided.length} captures it is unknown whether sends reached the pipeline after the commit ` +
          `(no pipeline events to tell), e.g. ${undecided[0]}`,
      );
    }
    const decided = decidedByReports > 0 ? ` (${decidedByReports} decided by the pipeline's reports)` : '';
    return passed('I6', `${counted}; each re-announcement logged${decided}, none held by a second row`);
  });
}

/** Every capture with at least one metadata send, with the seqs of its sends (sends naming no capture are skipped). */
function capturesWithSends(facts: RunFacts): CaptureSends[] {
  const byKey = new Map<string, CaptureSends>();
  for (const capture of facts.captures) {
    const key = `${capture.mac}|${capture.sha256}`;
    if (!byKey.has(key)) byKey.set(key, { capture, sends: [] });
  }
  for (const send of facts.metadataSends) byKey.get(`${send.mac}|${send.sha256}`)?.sends.push(send.seq);
  return [...byKey.values()].filter((c) => c.sends.length > 0);
}

/** Seqs at which a capture (`mac|sha256`) or an image row (`id:<image_id>`) became known stored complete. */
function knownCompleteSeqs(facts: RunFacts): Map<string, number> {
  const first = new Map<string, number>();
  const note = (key: string, seq: number) => first.set(key, Math.min(seq, first.get(key) ?? seq));
  for (const d of facts.dequeued) note(`${d.mac}|${d.sha256}`, d.seq);
  for (const a of facts.acks) if (a.storedComplete) note(`${a.mac}|${a.sha256}`, a.seq);
  for (const step of facts.pipelineSteps) if (step.kind === 'committed') note(`id:${step.imageId}`, step.seq);
  return first;
}

/** The first seq at which the capture is known stored complete: settled, or a holding row's commit reported. */
function knownCompleteAt(seqs: ReadonlyMap<string, number>, c: CaptureSends, rows: readonly Holder[]): number | null {
  const candidates = [
    seqs.get(`${c.capture.mac}|${c.capture.sha256}`),
    ...rows.map((r) => seqs.get(`id:${r.imageId}`)),
  ];
  const known = candidates.filter((seq): seq is number => seq !== undefined);
  return known.length === 0 ? null : Math.min(...known);
}

/**
 * pipeline_duplicate_logged claims per capture: a claim names (mac, wire name) and, when the pipeline reported it,
 * the re-sent capture's timestamp; it goes to the capture of that device (with that timestamp) whose latest
 * metadata send under that name precedes it (the send it answered). Without the timestamp, after a counter reset a
 * late copy of the older capture's metadata would be counted for the newer capture sent meanwhile.
 */
function claimsPerCapture(facts: RunFacts, announced: readonly CaptureSends[]): number[] {
  const counts = announced.map(() => 0);
  for (const claim of facts.duplicateLogClaims) {
    let best = -1;
    let bestSeq = -1;
    announced.forEach((c, i) => {
      if (c.capture.mac !== claim.mac || c.capture.imageName !== claim.imageName) return;
      if (claim.captureTimestamp !== undefined && c.capture.captureTimestamp !== claim.captureTimestamp) return;
      for (const seq of c.sends) {
        if (seq < claim.seq && seq > bestSeq) {
          bestSeq = seq;
          best = i;
        }
      }
    });
    if (best >= 0) counts[best] = (counts[best] ?? 0) + 1;
  }
  return counts;
}

async function holdersOf(db: Db, withBlobs: boolean, announced: readonly CaptureSends[]): Promise<Holder[][]> {
  if (announced.length === 0) return [];
  const rows = await queryRows<{ ord: number; holders: Holder[] }>(
    db,
    `${storedImagesCte(withBlobs)},
     r AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
                       AS r(mac, image_name, sha256, capture_ts, ord))
     SELECT r.ord::int AS ord,
            coalesce(json_agg(json_build_object('imageId', img.image_id, 'imageName', img.image_name,
                                                'status', img.status) ORDER BY img.image_name)
                       FILTER (WHERE img.image_id IS NOT NULL), '[]'::json) AS holders
     FROM r
     LEFT JOIN img
       ON img.mac = r.mac
      AND (img.blob_sha256 = r.sha256
           OR (img.blob_sha256 IS NULL AND img.wire_name = r.image_name
               AND (img.capture_ts IS NULL OR r.capture_ts IS NULL OR img.capture_ts = r.capture_ts)))
     GROUP BY r.ord ORDER BY r.ord`,
    [
      announced.map((c) => c.capture.mac),
      announced.map((c) => c.capture.imageName),
      announced.map((c) => c.capture.sha256),
      announced.map((c) => c.capture.captureTimestamp),
    ],
  );
  const out: Holder[][] = announced.map(() => []);
  for (const row of rows) out[row.ord - 1] = row.holders;
  return out;
}

/** Every duplicate_images_log row except the reference pipeline's name-reuse records. */
async function duplicateLogRows(db: Db): Promise<LogRow[]> {
  return queryRows<LogRow>(
    db,
    `SELECT l.log_id::text AS log_id, ${MAC_SQL('d.device_mac')} AS mac, l.image_name, l.image_id::text AS image_id,
            coalesce(l.duplicate_metadata ->> 'timestamp', l.duplicate_metadata ->> 'capture_timestamp',
                     l.duplicate_metadata ->> 'capture_timeStamp') AS capture_ts
     FROM duplicate_images_log l
     LEFT JOIN devices d ON d.device_id = l.device_id
     WHERE l.duplicate_metadata ->> 'camfleet_event' IS DISTINCT FROM 'name_reuse'
     ORDER BY l.created_at, l.log_id`,
  );
}

function matchLogRows(
  logRows: readonly LogRow[],
  announced: readonly CaptureSends[],
  holders: readonly Holder[][],
): { byCapture: number[]; unmatched: UnmatchedLogRow[] } {
  const byCapture = announced.map(() => 0);
  const unmatched: UnmatchedLogRow[] = [];
  for (const log of logRows) {
    let match = -1;
    let matchById = false;
    announced.forEach((c, i) => {
      if (log.mac !== c.capture.mac) return;
      if (log.capture_ts !== null && log.capture_ts !== c.capture.captureTimestamp) return;
      const rows = holders[i] ?? [];
      const byId = log.image_id !== null && rows.some((r) => r.imageId === log.image_id);
      const byName = log.image_name === c.capture.imageName || rows.some((r) => r.imageName === log.image_name);
      if (!byId && !byName) return;
      // A row naming a holder's id beats one matching by name only (two captures may share a wire name).
      if (match < 0 || (byId && !matchById)) {
        match = i;
        matchById = byId;
      }
    });
    if (match >= 0) byCapture[match] = (byCapture[match] ?? 0) + 1;
    else {
      unmatched.push({
        logId: log.log_id,
        mac: log.mac,
        imageName: log.image_name,
        captureTimestamp: log.capture_ts,
        problem: 'duplicate_images_log row for no capture the device announced',
      });
    }
  }
  return { byCapture, unmatched };
}
