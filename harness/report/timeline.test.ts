// The timeline report.html draws, from a history: lanes per device, spans and marks at the right times, failing
// devices from the offending rows of failed invariants only.
import { describe, expect, test } from 'vitest';
import type { HistoryEvent, NewHistoryEvent } from '../history/events.ts';
import { buildTimeline, failingDevices, macsIn, markKinds, spanKinds, type RunTimeline } from './timeline.ts';

const A = 'B8F862000001';
const B = 'B8F862000002';

function history(events: readonly (readonly [number, NewHistoryEvent])[]): HistoryEvent[] {
  return events.map(([atMs, e], seq) => ({ ...e, seq, atMs }));
}

function spansOf(t: RunTimeline) {
  const out: { mac: string; from: number; to: number; kind: string; label: string }[] = [];
  for (let i = 0; i < t.spans.length; i += 5)
    out.push({
      mac: t.devices[t.spans[i] ?? -1] ?? '?',
      from: t.spans[i + 1] ?? -1,
      to: t.spans[i + 2] ?? -1,
      kind: spanKinds[t.spans[i + 3] ?? -1] ?? '?',
      label: t.labels[t.spans[i + 4] ?? -1] ?? '?',
    });
  return out;
}

function marksOf(t: RunTimeline) {
  const out: { mac: string; at: number; kind: string; label: string }[] = [];
  for (let i = 0; i < t.marks.length; i += 4)
    out.push({
      mac: t.devices[t.marks[i] ?? -1] ?? '?',
      at: t.marks[i + 1] ?? -1,
      kind: markKinds[t.marks[i + 2] ?? -1] ?? '?',
      label: t.labels[t.marks[i + 3] ?? -1] ?? '?',
    });
  return out;
}

describe('buildTimeline', () => {
  const events = history([
    [1000, { type: 'run_phase', phase: 'start' }],
    [1010, { type: 'device_wake', mac: A, wake: 1 }],
    [1020, { type: 'device_wake', mac: B, wake: 1 }],
    [1030, { type: 'device_sent_metadata', mac: A, imageName: 'image_1.jpg', sha256: 'h1' }],
    [1031, { type: 'device_sent_chunks', mac: A, imageName: 'image_1.jpg', chunkIds: [0, 1, 2, 3] }],
    [1100, { type: 'nemesis', fault: 'device_reboot_mid_transfer', target: A, detail: 'after chunk 3' }],
    [1200, { type: 'device_sent_metadata', mac: A, imageName: 'image_1.jpg', sha256: 'h1' }],
    [1210, { type: 'pipeline_missing_requested', mac: A, imageName: 'image_1.jpg', chunkIds: [4, 6] }],
    [1220, { type: 'device_sent_chunks', mac: A, imageName: 'image_1.jpg', chunkIds: [4, 6] }],
    [1300, { type: 'nemesis', fault: 'pipeline_restart', detail: 'crash' }],
    [1310, { type: 'nemesis', fault: 'duplicate', target: 'camfleet-pipeline-1', detail: `ESP32CAM/${B}/data` }],
    [1400, { type: 'ack_observed', mac: A, imageName: 'image_1.jpg', sha256: 'h1', storedComplete: true }],
    [1401, { type: 'device_dequeued', mac: A, imageName: 'image_1.jpg', sha256: 'h1' }],
    [1500, { type: 'device_sleep', mac: A, untilMs: 99_000 }],
    [1600, { type: 'device_sent_metadata', mac: B, imageName: 'image_1.jpg', sha256: 'h2' }],
    [1700, { type: 'ack_observed', mac: B, imageName: 'image_1.jpg', sha256: 'h2', storedComplete: false }],
    [2000, { type: 'run_phase', phase: 'end' }],
  ]);
  const failed = [
    { id: 'I1' as const, actual: 'pass' as const, offending: [{ mac: A }] },
    { id: 'I7' as const, actual: 'fail' as const, offending: [{ mac: B, imageName: 'image_1.jpg' }] },
  ];
  const t = buildTimeline(events, failed);

  test('one lane per device in order of appearance; times from the first event', () => {
    expect(t.devices).toEqual([A, B]);
    expect(t.endMs).toBe(1000);
  });

  test('awake and transfer spans; a device still awake and a transfer never acknowledged run to the end', () => {
    expect(spansOf(t)).toEqual(
      expect.arrayContaining([
        { mac: A, from: 30, to: 401, kind: 'transfer', label: 'image_1.jpg' },
        { mac: A, from: 10, to: 500, kind: 'awake', label: '' },
        { mac: B, from: 20, to: 1000, kind: 'awake', label: '' },
        { mac: B, from: 600, to: 1000, kind: 'transfer-open', label: 'image_1.jpg (never acknowledged)' },
      ]),
    );
    expect(spansOf(t)).toHaveLength(4);
  });

  test('marks: a re-send, a chunk burst and its re-sent chunks, the resume request, the fault, both ACKs', () => {
    const marks = marksOf(t);
    expect(marks.filter((m) => m.mac === A).map((m) => [m.at, m.kind, m.label])).toEqual([
      [30, 'metadata', 'metadata image_1.jpg'],
      [31, 'chunks', 'image_1.jpg chunks 0–3'],
      [100, 'fault', 'device_reboot_mid_transfer: after chunk 3'],
      [200, 'resend', 're-sent image_1.jpg'],
      [210, 'resume-request', 'missing_chunks image_1.jpg chunks 4,6'],
      [220, 'chunks-resent', 'image_1.jpg chunks 4,6'],
      [400, 'ack', 'ACK_OK image_1.jpg'],
      [401, 'dequeued', 'dequeued image_1.jpg'],
    ]);
    // A network fault on a device's message is drawn on that device's lane.
    expect(marks.find((m) => m.mac === B && m.kind === 'fault')).toEqual({
      mac: B,
      at: 310,
      kind: 'fault',
      label: `duplicate: ESP32CAM/${B}/data (camfleet-pipeline-1)`,
    });
    expect(marks.find((m) => m.mac === B && m.kind === 'ack-early')?.label).toBe(
      'ACK_OK image_1.jpg before the image was complete',
    );
  });

  test('a fault without a device is a fleet-wide line, with the run phases', () => {
    expect(t.fleet).toEqual([
      { tMs: 0, kind: 'phase', label: 'start' },
      { tMs: 300, kind: 'fault', label: 'pipeline_restart: crash' },
      { tMs: 1000, kind: 'phase', label: 'end' },
    ]);
  });

  test('failing devices come from failed invariants only', () => {
    expect(t.failing).toEqual({ [B]: ['I7'] });
  });
});

describe('failing devices', () => {
  test('a MAC anywhere in an offending row counts, a uuid tail or a hash does not', () => {
    const row = {
      deviceId: '00000000-0000-4000-8000-000000000007',
      sha256: 'ABCDEF0123456789ABCDEF0123456789',
      rows: [{ victim: B }],
      mac: A,
    };
    expect([...macsIn(row)].sort()).toEqual([A, B]);
  });

  test('several invariants naming one device are listed together', () => {
    expect(
      failingDevices([
        { id: 'I2', actual: 'fail', offending: [{ mac: A }] },
        { id: 'I5', actual: 'fail', offending: [{ mac: A }] },
        { id: 'I9', actual: 'unknown', offending: [{ mac: B }] },
      ]),
    ).toEqual({ [A]: ['I2', 'I5'] });
  });

  test('a failing device the history never saw still gets a lane', () => {
    const t = buildTimeline([], [{ id: 'I8', actual: 'fail', offending: [{ mac: A }] }]);
    expect(t.devices).toEqual([A]);
    expect(t.endMs).toBe(0);
  });
});
