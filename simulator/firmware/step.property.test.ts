// Property: for arbitrary input sequences the core never throws, an image leaves the SD queue only through an
// ACK_OK naming it, the flash counter never decreases, and the timers it asks for stay consistent.
// fast-check prints the seed and path of a failure; replay with fc.assert(..., { seed, path }).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../protocol/messages.ts';
import type { FirmwareInput } from './inputs.ts';
import { mulberry32 } from '../random/prng.ts';
import { initialState, makeFirmwareConfig } from './state.ts';
import { step } from './step.ts';
import { DEVICE_ID, T0 } from './test-support.ts';

const nameArb = fc.integer({ min: 1, max: 6 }).map((n) => `image_${n}.jpg`);
const wakeTimeArb = fc.oneof(fc.constantFrom('3:00PM', '12:00AM', '9:05AM', '11:59PM'), fc.string({ maxLength: 7 }));

const serverMessageArb: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.constant({ kind: 'capture_image' as const }),
  nameArb.map((image_name) => ({ kind: 'send_image' as const, image_name })),
  fc.constant({ kind: 'send_all_pending' as const }),
  fc.record({
    kind: fc.constant('missing_chunks' as const),
    image_name: nameArb,
    missing_chunks: fc.array(fc.integer({ min: -2, max: 8 }), { maxLength: 5 }),
  }),
  fc.record(
    { kind: fc.constant('ack_ok' as const), image_name: nameArb, next_wake_time: wakeTimeArb },
    { requiredKeys: ['kind'] },
  ),
  wakeTimeArb.map((next_wake) => ({ kind: 'next_wake' as const, next_wake })),
);

type Op =
  | { readonly op: 'input'; readonly input: FirmwareInput }
  | { readonly op: 'fire_armed_timer' }
  | { readonly op: 'stale_timer'; readonly timerId: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('wake', 'connected').map((type): Op => ({ op: 'input', input: { type } })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('connect_failed', 'disconnected', 'reboot')
      .map((type): Op => ({ op: 'input', input: { type } })),
  },
  {
    weight: 6,
    arbitrary: serverMessageArb.map((message): Op => ({ op: 'input', input: { type: 'message', message } })),
  },
  { weight: 3, arbitrary: fc.constant({ op: 'fire_armed_timer' as const }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((timerId) => ({ op: 'stale_timer' as const, timerId })) },
);

const stepArb = fc.record({ op: opArb, advanceMs: fc.integer({ min: 0, max: 6 * 60 * 60 * 1000 }) });

describe('firmware core properties', () => {
  it('never throws; queue shrinks only via ACK_OK for a queued name; counter never decreases; timers consistent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.array(stepArb, { minLength: 5, maxLength: 80, size: 'max' }),
        (seed, steps) => {
          let state = initialState(makeFirmwareConfig({ deviceId: DEVICE_ID, imageKbMean: 3 }), seed);
          const random = mulberry32(seed);
          let nowMs = T0;
          const liveTimers = new Set<string>();
          for (const { op, advanceMs } of steps) {
            nowMs += advanceMs;
            let input: FirmwareInput;
            if (op.op === 'input') input = op.input;
            else if (op.op === 'stale_timer') input = { type: 'timer', timerId: op.timerId };
            else {
              const armed = state.ram.timer;
              if (armed === null) continue;
              liveTimers.delete(armed.timerId); // a fired timer is gone
              input = { type: 'timer', timerId: armed.timerId };
            }
            const before = state;
            const { state: after, effects } = step(before, input, { nowMs, random });
            state = after;

            // the flash counter never decreases
            expect(after.persistent.flash.imageCounter).toBeGreaterThanOrEqual(before.persistent.flash.imageCounter);

            // queue changes: additions are exactly the captures, removals exactly the dequeues of an ACK_OK's name
            const beforeSeqs = new Set(before.persistent.sd.queue.map((q) => q.captureSeq));
            const afterSeqs = new Set(after.persistent.sd.queue.map((q) => q.captureSeq));
            const removed = before.persistent.sd.queue.filter((q) => !afterSeqs.has(q.captureSeq));
            const added = after.persistent.sd.queue.filter((q) => !beforeSeqs.has(q.captureSeq));
            const dequeued = effects.flatMap((e) => (e.type === 'dequeued' ? [e] : []));
            const captured = effects.flatMap((e) => (e.type === 'captured' ? [e.image] : []));
            expect(added.map((q) => q.captureSeq)).toEqual(captured.map((c) => c.captureSeq));
            expect(removed.map((q) => q.captureSeq)).toEqual(dequeued.map((d) => d.captureSeq));
            if (removed.length > 0) {
              expect(removed).toHaveLength(1);
              expect(input.type === 'message' && input.message.kind === 'ack_ok').toBe(true);
              const ackName =
                input.type === 'message' && input.message.kind === 'ack_ok' ? input.message.image_name : '';
              expect(removed[0]?.name).toBe(ackName);
            }

            // timers: cancels name live timers; at most one live, and it is the one the state remembers
            for (const e of effects) {
              if (e.type === 'set_timer') {
                expect(liveTimers.has(e.timerId)).toBe(false);
                liveTimers.add(e.timerId);
              } else if (e.type === 'cancel_timer') {
                expect(liveTimers.delete(e.timerId)).toBe(true);
              } else if (e.type === 'publish' && e.message.kind === 'chunk') {
                expect(e.message.payload.length).toBeGreaterThan(0);
                expect(e.message.payload.length).toBeLessThanOrEqual(after.config.chunkBytes);
              }
            }
            expect([...liveTimers]).toEqual(after.ram.timer === null ? [] : [after.ram.timer.timerId]);
            // a timer runs only online, or while booting (the boot timer alone)
            if (after.ram.phase === 'booting') expect(after.ram.timer?.kind).toBe('boot');
            else if (after.ram.phase !== 'online') expect(after.ram.timer).toBeNull();
            else expect(after.ram.timer?.kind).not.toBe('boot');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on any clock or randomness, however broken', () => {
    const inputArb: fc.Arbitrary<FirmwareInput> = fc.oneof(
      fc.constantFrom<FirmwareInput>(
        { type: 'wake' },
        { type: 'connected' },
        { type: 'connect_failed' },
        { type: 'reboot' },
      ),
      serverMessageArb.map((message): FirmwareInput => ({ type: 'message', message })),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(inputArb, fc.double(), fc.double()), { maxLength: 30 }), (steps) => {
        let state = initialState(makeFirmwareConfig({ deviceId: DEVICE_ID, imageKbMean: 3 }), 1);
        for (const [input, nowMs, r] of steps) state = step(state, input, { nowMs, random: () => r }).state;
      }),
      { numRuns: 200 },
    );
  });
});
