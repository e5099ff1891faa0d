// I5 liveness (ARCHITECTURE.md §3): after faults stop and devices get clean wakes (the heal phase), every captured
// image is stored complete with its bytes, every device's final queue is empty, and no row is left pending or
// receiving. Judged only once the run reached its end: without device_final events the verdict is unknown.
import { existingTables, MAC_SQL, queryRows, requireTables, type Db } from './db.ts';
import { distinctImages, imageKey, type RunFacts } from './run-facts.ts';
import { checkStoredComplete } from './stored-images.ts';
import { evaluate, judge, unknown, type InvariantVerdict } from './verdict.ts';

export type LivenessProblem =
  | {
      readonly kind: 'capture_not_stored';
      readonly mac: string;
      readonly imageName: string;
      readonly sha256: string;
      readonly found: string;
    }
  | { readonly kind: 'queue_not_empty'; readonly mac: string; readonly queued: readonly string[] }
  | {
      readonly kind: 'row_in_flight';
      readonly mac: string | null;
      readonly imageName: string;
      readonly imageId: string;
      readonly status: string;
      readonly receivedChunks: number | null;
      readonly totalChunks: number | null;
    };

export function checkLiveness(db: Db, facts: RunFacts): Promise<InvariantVerdict> {
  return evaluate('I5', async () => {
    if (facts.finalQueues.length === 0) {
      return unknown('I5', 'the history has no device_final events: the run never reached its end');
    }
    await requireTables(db, ['device_images', 'devices']);
    const withBlobs = (await existingTables(db, ['image_blobs'])).has('image_blobs');

    // A capture the device lost itself (torn SD write) may be absent; I3/I8 still forbid it being partial.
    const lost = new Set(facts.lostCaptures.map((l) => imageKey(l.mac, l.sha256)));
    const captures = distinctImages(facts.captures.filter((c) => !lost.has(imageKey(c.mac, c.sha256))));
    const { missing } = await checkStoredComplete(db, captures, withBlobs);
    const queues = facts.finalQueues.filter((f) => f.queued.length > 0);
    const inFlight = await queryRows<Extract<LivenessProblem, { kind: 'row_in_flight' }>>(
      db,
      `SELECT 'row_in_flight' AS kind, ${MAC_SQL('d.device_mac')} AS mac, di.image_name AS "imageName",
              di.image_id::text AS "imageId", di.status, di.received_chunks AS "receivedChunks",
              di.total_chunks AS "totalChunks"
       FROM device_images di LEFT JOIN devices d ON d.device_id = di.device_id
       WHERE di.status IN ('pending', 'receiving')
       ORDER BY mac, di.image_name`,
    );
    const offending: LivenessProblem[] = [
      ...missing.map((m) => ({ kind: 'capture_not_stored' as const, ...m })),
      ...queues.map((q) => ({ kind: 'queue_not_empty' as const, mac: q.mac, queued: q.queued })),
      ...inFlight,
    ];

    const withFinal = new Set(facts.finalQueues.map((f) => f.mac));
    const noFinal = facts.macs.filter((mac) => !withFinal.has(mac));
    const undecided = [
      ...(withBlobs || captures.length === 0 ? [] : ['bytes not checkable: table image_blobs does not exist']),
      ...(noFinal.length === 0
        ? []
        : [`${noFinal.length} devices have no device_final (queue unknown): ${noFinal.slice(0, 5).join(', ')}`]),
    ];
    return judge(
      'I5',
      offending,
      {
        pass: `${captures.length} captures all stored complete, ${facts.finalQueues.length} final queues empty, 0 rows in flight`,
        fail: [
          missing.length > 0 ? `${missing.length} of ${captures.length} captures not stored complete` : '',
          queues.length > 0 ? `${queues.length} of ${facts.finalQueues.length} final queues not empty` : '',
          inFlight.length > 0 ? `${inFlight.length} rows left pending/receiving` : '',
        ]
          .filter((part) => part !== '')
          .join(', '),
      },
      undecided.length === 0 ? undefined : undecided.join('; '),
    );
  });
}
