// E1 exercised, on hand-written histories: a restart that hit no transfer, a transfer that was never resumed, and a
// planned fault that never fired each make it `unknown` (never `pass`, never `fail`).
import { describe, expect, it } from 'vitest';
import type { HistoryEvent, NewHistoryEvent } from '../history/events.ts';
import { checkExercised, hasExercises } from './exercises.ts';
import { InFlightTransfers } from './in-flight.ts';

const history = (events: NewHistoryEvent[]): HistoryEvent[] =>
  events.map((e, i): HistoryEvent => ({ ...e, seq: i + 1, atMs: i }));

const A = 'B8F862000001';
const B = 'B8F862000002';
const wake = (mac: string): NewHistoryEvent => ({ type: 'device_wake', mac, wake: 1 });
const meta = (mac: string, sha256: string): NewHistoryEvent => ({
  type: 'device_sent_metadata',
  mac,
  imageName: 'image_1.jpg',
  sha256,
});
const dequeued = (mac: string, sha256: string): NewHistoryEvent => ({
  type: 'device_dequeued',
  mac,
  imageName: 'image_1.jpg',
  sha256,
});
const restart: NewHistoryEvent = { type: 'nemesis', fault: 'pipeline_restart', target: 'pipeline' };
const planned: NewHistoryEvent = { type: 'fault_planned', planId: 1, fault: 'pipeline_restart', trigger: '40%' };
const fired: NewHistoryEvent = {
  type: 'fault_fired',
  planId: 1,
  fault: 'pipeline_restart',
  trigger: '40%',
  detail: '40/100 expected chunks stored (40%)',
};

describe('E1 exercised', () => {
  it('passes when the restart hit a transfer in flight that its device then announced again', () => {
    const events = history([planned, wake(A), meta(A, 'a1'), fired, restart, meta(A, 'a1'), dequeued(A, 'a1')]);
    const v = checkExercised(events, ['pipeline_restart_mid_transfer', 'resume_after_restart']);
    expect(v.verdict).toBe('pass');
    expect(v.summary).toContain('pipeline_restart_mid_transfer ×1, resume_after_restart ×1');
  });

  it('is unknown when the restart came after every transfer was acknowledged', () => {
    const events = history([wake(A), meta(A, 'a1'), dequeued(A, 'a1'), restart]);
    const v = checkExercised(events, ['pipeline_restart_mid_transfer']);
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('pipeline_restart_mid_transfer did not happen');
  });

  it('is unknown when the interrupted transfer was never announced again (no resume)', () => {
    const events = history([wake(A), meta(A, 'a1'), restart, wake(B), meta(B, 'b1'), dequeued(A, 'a1')]);
    const v = checkExercised(events, ['pipeline_restart_mid_transfer', 'resume_after_restart']);
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('resume_after_restart did not happen');
  });

  it("a restarted pipeline asking for the interrupted transfer's missing chunks is a resume too", () => {
    const asked: NewHistoryEvent = {
      type: 'pipeline_missing_requested',
      mac: A,
      imageName: 'image_1.jpg',
      chunkIds: [4, 9],
    };
    const events = history([wake(A), meta(A, 'a1'), restart, asked, dequeued(A, 'a1')]);
    expect(checkExercised(events, ['resume_after_restart']).verdict).toBe('pass');
    const committed: NewHistoryEvent = { type: 'pipeline_committed', mac: A, imageName: 'image_1.jpg', imageId: 'x' };
    expect(
      checkExercised(history([wake(A), meta(A, 'a1'), restart, committed]), ['resume_after_restart']).verdict,
    ).toBe('pass');
    const other: NewHistoryEvent = { ...asked, mac: B };
    expect(checkExercised(history([wake(A), meta(A, 'a1'), restart, other]), ['resume_after_restart']).verdict).toBe(
      'unknown',
    );
  });

  it('a transfer of a device that went back to sleep is not in flight', () => {
    const events = history([wake(A), meta(A, 'a1'), { type: 'device_sleep', mac: A, untilMs: 0 }, restart]);
    expect(checkExercised(events, ['pipeline_restart_mid_transfer']).verdict).toBe('unknown');
  });

  it('is unknown when a planned fault never fired, naming the trigger and what the run reached', () => {
    const missed: NewHistoryEvent = {
      type: 'fault_missed',
      planId: 1,
      fault: 'pipeline_restart',
      trigger: '40%',
      detail: 'the fleet finished first: 31/100 expected chunks stored (31%)',
    };
    const v = checkExercised(history([planned, wake(A), meta(A, 'a1'), missed]), []);
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('pipeline_restart at 40% never fired (the fleet finished first: 31/100');
    expect(checkExercised(history([planned, fired, restart]), []).verdict).toBe('pass');
  });

  it('counts fault events by name, and is only judged when something is planned or named', () => {
    const events = history([
      { type: 'nemesis', fault: 'drop', target: A },
      { type: 'pipeline_name_reused', mac: A, imageName: 'image_1.jpg', storedName: 'image_1~2.jpg' },
    ]);
    expect(checkExercised(events, ['message_dropped', 'name_reuse']).verdict).toBe('pass');
    expect(checkExercised(events, ['message_duplicated']).verdict).toBe('unknown');
    expect(hasExercises(events, [])).toBe(false);
    expect(hasExercises(events, ['name_reuse'])).toBe(true);
    expect(hasExercises(history([planned]), [])).toBe(true);
  });
});

describe('transfers in flight', () => {
  it('counts captures announced this wake and not yet acknowledged, per device', () => {
    const t = new InFlightTransfers();
    for (const e of history([wake(A), meta(A, 'a1'), meta(A, 'a1'), wake(B), meta(B, 'b1'), meta(B, 'b2')])) t.apply(e);
    expect(t.count).toBe(3);
    for (const e of history([dequeued(B, 'b1'), { type: 'device_lost_capture', mac: B, imageName: 'x', sha256: 'b2' }]))
      t.apply(e);
    expect(t.keys()).toEqual([`${A}|a1`]);
    t.apply(history([wake(A)])[0] as HistoryEvent); // a reboot or the next wake: nothing of A in flight any more
    expect(t.count).toBe(0);
  });
});

describe('E1 exercised: the webhook exercises', () => {
  const delivery = (outcome: string): NewHistoryEvent => ({
    type: 'webhook_delivery',
    delivery: 1,
    topic: `ESP32CAM/${A}/data`,
    attempt: 1,
    outcome,
    ms: 5,
    next: outcome === '200' ? 'delivered' : 'retry',
  });

  it('webhook_race is unknown when the handler never answered before the service wrote, pass when it did', () => {
    // Deliveries happened, but the rendezvous recorded no race: the run says nothing about it.
    const none = history([wake(A), meta(A, 'a1'), delivery('timeout'), delivery('200')]);
    expect(checkExercised(none, ['webhook_race']).verdict).toBe('unknown');
    const raced = history([
      wake(A),
      meta(A, 'a1'),
      delivery('200'),
      { type: 'nemesis', fault: 'webhook_race', target: A, detail: 'image_1.jpg' },
    ]);
    expect(checkExercised(raced, ['webhook_race']).verdict).toBe('pass');
  });

  it('webhook_timeout counts timed-out attempts of deliveries that went through; webhook_5xx and webhook_duplicate their faults', () => {
    const events = history([
      delivery('200'),
      { type: 'nemesis', fault: 'webhook_5xx', target: `ESP32CAM/${A}/data` },
      { type: 'nemesis', fault: 'webhook_duplicate', target: `ESP32CAM/${A}/data` },
    ]);
    expect(checkExercised(events, ['webhook_5xx', 'webhook_duplicate']).verdict).toBe('pass');
    expect(checkExercised(events, ['webhook_timeout']).verdict).toBe('unknown');
    // A timeout whose retry the handler took exercised it; one whose delivery never went through (a handler that
    // never answers, or refuses) did not.
    expect(checkExercised(history([delivery('timeout'), delivery('200')]), ['webhook_timeout']).verdict).toBe('pass');
    expect(checkExercised(history([delivery('timeout')]), ['webhook_timeout']).verdict).toBe('unknown');
    const refused = { ...delivery('500'), attempt: 2, next: 'give_up' as const };
    expect(checkExercised(history([delivery('timeout'), refused]), ['webhook_timeout']).verdict).toBe('unknown');
  });
});
