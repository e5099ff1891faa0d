import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { NewHistoryEvent } from '../history/events.ts';
import { runFacts } from './run-facts.ts';

const macArb = fc.constantFrom('AABBCCDDEEFF', 'aa:bb:cc:dd:ee:ff', '112233445566');
const shaArb = fc.constantFrom('s1', 's2', 's3');
const nameArb = fc.constantFrom('image_1.jpg', 'image_2.jpg');

const eventArb: fc.Arbitrary<NewHistoryEvent> = fc.oneof(
  fc.record({ type: fc.constant('device_sent_metadata' as const), mac: macArb, imageName: nameArb, sha256: shaArb }),
  fc.record({ type: fc.constant('device_dequeued' as const), mac: macArb, imageName: nameArb, sha256: shaArb }),
  fc.record({
    type: fc.constant('ack_observed' as const),
    mac: macArb,
    imageName: nameArb,
    sha256: shaArb,
    storedComplete: fc.boolean(),
  }),
  fc.record({ type: fc.constant('device_final' as const), mac: macArb, queued: fc.array(nameArb, { maxLength: 2 }) }),
  fc.record({ type: fc.constant('pipeline_committed' as const), mac: macArb, imageName: nameArb, imageId: fc.uuid() }),
  fc.record({ type: fc.constant('pipeline_acked' as const), mac: macArb, imageName: nameArb }),
  fc.record({
    type: fc.constant('device_captured' as const),
    capture: fc.record({
      mac: macArb,
      imageName: nameArb,
      sha256: shaArb,
      sizeBytes: fc.nat(),
      captureTimestamp: fc.constant('2026-01-14T10:00:00Z'),
      captureSeq: fc.nat(),
    }),
  }),
  fc.record({ type: fc.constant('run_phase' as const), phase: fc.constantFrom('start' as const, 'end' as const) }),
);

/** Events with seq 1..n, then stored in a shuffled order (a history merged from NDJSON need not be sorted). */
const historyArb = fc
  .array(eventArb, { maxLength: 40 })
  .map((events) => events.map((e, i) => ({ ...e, seq: i + 1, atMs: 1000 + i })))
  .chain((events) => fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }));

const norm = (mac: string) => mac.replace(/:/g, '').toUpperCase();

describe('runFacts', () => {
  test('property: independent of array order; re-announcements match a brute-force statement', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const facts = runFacts(history);
        const sorted = [...history].sort((a, b) => a.seq - b.seq);
        expect(runFacts(sorted)).toEqual(facts);

        // a send is a re-announce iff the same device settled the same image at an earlier seq
        const expected = new Map<string, { sends: number; firstSeq: number }>();
        for (const send of sorted) {
          if (send.type !== 'device_sent_metadata') continue;
          const settled = sorted.some(
            (e) =>
              e.seq < send.seq &&
              ((e.type === 'device_dequeued' && norm(e.mac) === norm(send.mac) && e.sha256 === send.sha256) ||
                (e.type === 'ack_observed' &&
                  e.storedComplete &&
                  norm(e.mac) === norm(send.mac) &&
                  e.sha256 === send.sha256)),
          );
          if (!settled) continue;
          const key = `${norm(send.mac)}|${send.sha256}`;
          const seen = expected.get(key);
          expected.set(key, { sends: (seen?.sends ?? 0) + 1, firstSeq: seen?.firstSeq ?? send.seq });
        }
        expect(
          Object.fromEntries(
            facts.reannouncements.map((r) => [`${r.mac}|${r.sha256}`, { sends: r.sends, firstSeq: r.firstSeq }]),
          ),
        ).toEqual(Object.fromEntries(expected));
        for (const r of facts.reannouncements) expect(r.settledSeq).toBeLessThan(r.firstSeq);

        // the final queue of a device is its last device_final
        for (const final of facts.finalQueues) {
          const last = sorted.filter((e) => e.type === 'device_final' && norm(e.mac) === final.mac).at(-1);
          expect(last?.seq).toBe(final.seq);
        }
        // pipeline steps in seq order, all of them
        const seqs = facts.pipelineSteps.map((s) => s.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(seqs).toHaveLength(
          sorted.filter((e) => e.type === 'pipeline_acked' || e.type === 'pipeline_committed').length,
        );
        // every MAC normalised
        for (const mac of facts.macs) expect(mac).toMatch(/^[0-9A-F]{12}$/);
      }),
      { numRuns: 300 },
    );
  });

  test('a send before the dequeue is a transfer, after it a re-announce; ack with storedComplete false settles nothing', () => {
    const h = (events: NewHistoryEvent[]) => events.map((e, i) => ({ ...e, seq: i + 1, atMs: 0 }));
    const image = { mac: 'b8:f8:62:f9:c1:c4', imageName: 'image_1.jpg', sha256: 'abc' };
    const facts = runFacts(
      h([
        { type: 'device_sent_metadata', ...image },
        { type: 'ack_observed', ...image, storedComplete: false },
        { type: 'device_sent_metadata', ...image },
        { type: 'ack_observed', ...image, storedComplete: true },
        { type: 'device_dequeued', ...image },
        { type: 'device_sent_metadata', ...image },
        { type: 'device_sent_metadata', ...image },
      ]),
    );
    expect(facts.reannouncements).toEqual([
      {
        mac: 'B8F862F9C1C4',
        imageName: 'image_1.jpg',
        sha256: 'abc',
        sends: 2,
        firstSeq: 6,
        settledBy: 'ack_observed',
        settledSeq: 4,
      },
    ]);
    expect(facts.macs).toEqual(['B8F862F9C1C4']);
    expect(facts.finalQueues).toEqual([]);
  });
});
