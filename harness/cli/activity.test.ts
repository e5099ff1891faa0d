// The progress display's "what is the run waiting for" line and its bars' totals, from hand-made progress samples;
// and the plain-line display on a non-terminal stream, which prints at once when that line changes.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { newFleetCounters } from '../fleet/fleet-counters.ts';
import { emptyPipelineStats } from '../run/pipeline-set.ts';
import type { RunProgress } from '../run/live-run.ts';
import { barTotals, describeActivity } from './activity.ts';
import { createProgressDisplay } from './progress.ts';

function sample(over: Partial<RunProgress> = {}, fleet: Partial<RunProgress['fleet']> = {}): RunProgress {
  return {
    fleet: { ...newFleetCounters(), devicesAwake: 3, ...fleet },
    pipeline: { ...emptyPipelineStats(), chunksStored: 100 },
    elapsedMs: 5_000,
    phase: 'fleet',
    injecting: undefined,
    ackTimeoutMs: 10_000,
    ...over,
  };
}

describe('what the run is waiting for', () => {
  it('names a fault being injected', () => {
    const p = sample({ injecting: { fault: 'pipeline_restart', trigger: '40%' } });
    expect(describeActivity(p, 8_000)).toBe('pipeline restarting (fault at 40%)');
  });

  it('explains a stall: awake devices are waiting out their ACK timeout', () => {
    expect(describeActivity(sample(), 999)).toBe('');
    expect(describeActivity(sample(), 8_200)).toBe(
      '3 devices awake, nothing stored for 8 s: devices waiting out the 10 s ACK timeout before re-sending',
    );
    expect(describeActivity(sample({}, { devicesAwake: 0 }), 8_200)).toBe('');
  });

  it('says when the heal phase runs, and nothing once the run is done', () => {
    expect(describeActivity(sample({ phase: 'heal' }), 0)).toBe('heal phase (faults off, clean wakes)');
    expect(describeActivity(sample({ phase: 'done' }), 60_000)).toBe('');
  });

  it('bars end at their true totals: chunks of the captured images, each once, re-sends or not', () => {
    const p = sample({}, { captured: 3, chunksCaptured: 210, chunksSent: 260, chunksResent: 50 });
    expect(barTotals(p)).toEqual({ images: 3, chunks: 210 });
  });
});

describe('plain progress lines (not a terminal)', () => {
  it('prints every 3 s, and at once when what the run waits for changes', () => {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    }) as unknown as NodeJS.WriteStream;
    const display = createProgressDisplay({ devices: 5, quiet: false, stream });
    display.update(sample({ elapsedMs: 3_000 }, { captured: 2, chunksCaptured: 140, acked: 1 }));
    display.update(sample({ elapsedMs: 3_500 }));
    display.update(sample({ elapsedMs: 3_600, injecting: { fault: 'pipeline_restart', trigger: '40%' } }));
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('images complete 1/2; chunks 100/140 stored');
    expect(lines[1]).toMatch(/\[3\.6s\].*; pipeline restarting \(fault at 40%\)$/);
  });
});
