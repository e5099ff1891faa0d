// A large fleet's history without running it, for report.html's 10,000-device tests and benchmark: each device wakes
// (staggered), captures, sends metadata and its chunks, is acknowledged, dequeues and sleeps, twice; one device in
// 500 loses power mid-transfer and resumes; a pipeline restart in the middle. Deterministic (no randomness).
import type { HistoryEvent, NewHistoryEvent } from '../history/events.ts';
import type { InvariantOutcome } from '../checker/expectation.ts';

export function deviceMac(i: number): string {
  return `B8F862${i.toString(16).toUpperCase().padStart(6, '0')}`;
}

export function fleetHistory(devices: number, chunksPerImage = 20): HistoryEvent[] {
  const timed: [number, NewHistoryEvent][] = [];
  const at = (t: number, e: NewHistoryEvent) => timed.push([t, e]);
  const t0 = 1_768_370_400_000;
  at(t0, { type: 'run_phase', phase: 'start' });
  const wakeGapMs = 6 * 3600e3;
  for (let d = 0; d < devices; d++) {
    const mac = deviceMac(d);
    for (let wake = 1; wake <= 2; wake++) {
      const start = t0 + (wake - 1) * wakeGapMs + (d % 1000) * 37 + Math.floor(d / 1000) * 11;
      const name = `image_${wake}.jpg`;
      const sha256 = `${mac}-${wake}`;
      const chunkIds = Array.from({ length: chunksPerImage }, (_, i) => i);
      at(start, { type: 'device_wake', mac, wake });
      at(start + 5, {
        type: 'device_captured',
        capture: {
          mac,
          imageName: name,
          sha256,
          sizeBytes: chunksPerImage * 1024,
          captureTimestamp: '',
          captureSeq: wake,
        },
      });
      at(start + 10, { type: 'device_sent_metadata', mac, imageName: name, sha256 });
      if (d % 500 === 7 && wake === 1) {
        at(start + 11, { type: 'device_sent_chunks', mac, imageName: name, chunkIds: chunkIds.slice(0, 5) });
        at(start + 12, { type: 'nemesis', fault: 'device_reboot_mid_transfer', target: mac, detail: 'after chunk 4' });
        at(start + 900, { type: 'device_sent_metadata', mac, imageName: name, sha256 });
        at(start + 910, { type: 'pipeline_missing_requested', mac, imageName: name, chunkIds: chunkIds.slice(5) });
        at(start + 920, { type: 'device_sent_chunks', mac, imageName: name, chunkIds: chunkIds.slice(5) });
      } else at(start + 11, { type: 'device_sent_chunks', mac, imageName: name, chunkIds });
      at(start + 1200, { type: 'ack_observed', mac, imageName: name, sha256, storedComplete: true });
      at(start + 1201, { type: 'device_dequeued', mac, imageName: name, sha256 });
      at(start + 1300, { type: 'device_sleep', mac, untilMs: start + wakeGapMs });
    }
  }
  at(t0 + 20_000, { type: 'nemesis', fault: 'pipeline_restart', detail: 'crash and restart' });
  timed.sort((a, b) => a[0] - b[0]);
  const events: HistoryEvent[] = timed.map(([atMs, e], seq) => ({ ...e, seq, atMs }));
  events.push({ type: 'run_phase', phase: 'end', seq: events.length, atMs: t0 + wakeGapMs + 60_000 });
  return events;
}

/** Invariant outcomes where I4 fails on one device (the one the history reboots). */
export function oneFailingDevice(failingMac: string): InvariantOutcome[] {
  return [
    {
      id: 'I1',
      name: 'unique',
      expected: 'not-fail',
      actual: 'pass',
      outcome: 'met',
      summary: '0 duplicate groups',
      offending: [],
      offendingCount: 0,
    },
    {
      id: 'I4',
      name: 'progress-kept',
      expected: 'not-fail',
      actual: 'fail',
      outcome: 'unmet',
      summary: '1 progress losses',
      offending: [{ kind: 'lowered', mac: failingMac, imageName: 'image_1.jpg', oldReceivedChunks: 5 }],
      offendingCount: 1,
    },
  ];
}
