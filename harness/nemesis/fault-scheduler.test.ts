// The fault scheduler: a fault fires when its trigger is due by the run's progress (not by the clock), one
// injection after another, and a fault whose trigger never came is recorded as missed. Progress is set by hand and
// `checkNow` polls, so the sequence is exact.
import { describe, expect, it } from 'vitest';
import { History } from '../history/history.ts';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { FaultScheduler } from './fault-scheduler.ts';

function world() {
  const history = new History();
  const progress = { chunksStored: 0, chunksExpected: 1000, transfersInFlight: 0, rowsReceiving: 0 };
  const clock = { ms: 0 };
  const scheduler = new FaultScheduler(history, () => progress, 1_000_000);
  const now = () => clock.ms;
  return { history, progress, clock, scheduler, now };
}

describe('fault scheduler', () => {
  it('fires a progress trigger exactly when that share of the expected chunks is stored', async () => {
    const { history, progress, scheduler, now } = world();
    const fired: string[] = [];
    scheduler.plan('pipeline_restart', '40%', () => Promise.resolve(void fired.push('restart')));
    scheduler.start(now);
    progress.chunksStored = 399;
    scheduler.checkNow(now);
    await scheduler.settled();
    expect(fired).toEqual([]);
    progress.chunksStored = 400;
    scheduler.checkNow(now);
    await scheduler.settled();
    expect(fired).toEqual(['restart']);
    scheduler.checkNow(now);
    await scheduler.stop(now);
    expect(fired).toEqual(['restart']); // once
    const [planned] = history.ofType('fault_planned');
    const [firedEvent] = history.ofType('fault_fired');
    expect(planned).toMatchObject({ fault: 'pipeline_restart', trigger: '40%' });
    expect(firedEvent).toMatchObject({ planId: planned?.planId, trigger: '40%' });
    expect(firedEvent?.detail).toContain('400/1000 expected chunks stored (40%)');
    expect(history.ofType('fault_missed')).toEqual([]);
    expect(scheduler.stats()).toEqual({ fired: 1, missed: 0, errors: [] });
  });

  it('fires an in-flight trigger on the transfers in flight, and a time trigger on the elapsed ms', async () => {
    const { progress, clock, scheduler, now } = world();
    const fired: string[] = [];
    scheduler.plan('kill_db_connections', '3-in-flight', () => Promise.resolve(void fired.push('kill')));
    scheduler.plan('broker_restart', '1500ms', () => Promise.resolve(void fired.push('broker')));
    scheduler.start(now);
    progress.transfersInFlight = 2;
    clock.ms = 1_499;
    scheduler.checkNow(now);
    await scheduler.settled();
    expect(fired).toEqual([]);
    progress.transfersInFlight = 3;
    scheduler.checkNow(now);
    await scheduler.settled();
    expect(fired).toEqual(['kill']);
    clock.ms = 1_500;
    scheduler.checkNow(now);
    await scheduler.stop(now);
    expect(fired).toEqual(['kill', 'broker']);
  });

  it('runs injections one after another, never overlapping', async () => {
    const { progress, scheduler, now } = world();
    const log: string[] = [];
    let release: () => void = () => {};
    scheduler.plan('pipeline_restart', '10%', async () => {
      log.push('first start');
      await new Promise<void>((r) => (release = r));
      log.push('first end');
    });
    scheduler.plan('pipeline_restart', '20%', () => Promise.resolve(void log.push('second')));
    scheduler.start(now);
    progress.chunksStored = 500;
    scheduler.checkNow(now);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['first start']);
    release();
    await scheduler.stop(now);
    expect(log).toEqual(['first start', 'first end', 'second']);
  });

  it('a fault whose trigger never came is recorded as missed, with the progress at the end', async () => {
    const { history, progress, scheduler, now } = world();
    scheduler.plan('pipeline_restart', '90%', async () => {});
    scheduler.start(now);
    progress.chunksStored = 310;
    await scheduler.stop(now);
    const [missed] = history.ofType('fault_missed');
    expect(missed).toMatchObject({ fault: 'pipeline_restart', trigger: '90%' });
    expect(missed?.detail).toContain('310/1000 expected chunks stored (31%)');
    expect(scheduler.stats()).toMatchObject({ fired: 0, missed: 1 });
  });

  it('an injection that throws is reported in stats, not thrown', async () => {
    const { progress, scheduler, now } = world();
    scheduler.plan('pipeline_restart', '1%', () => Promise.reject(new Error('no pipeline')));
    scheduler.start(now);
    progress.chunksStored = 10;
    await scheduler.stop(now);
    expect(scheduler.stats().errors).toEqual(['pipeline_restart: no pipeline']);
  });

  it('on a virtual clock, its poll timer fires a time trigger when that clock reaches it, not before', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 14, 6));
    const history = new History(() => clock.nowMs());
    const progress = { chunksStored: 0, chunksExpected: 1000, transfersInFlight: 0, rowsReceiving: 0 };
    const scheduler = new FaultScheduler(history, () => progress, 5, clock);
    const fired: string[] = [];
    scheduler.plan('broker_restart', '1500ms', () => Promise.resolve(void fired.push('broker')));
    scheduler.start();
    clock.advanceBy(1_499);
    await scheduler.settled();
    expect(fired).toEqual([]);
    clock.advanceBy(1);
    await scheduler.settled();
    expect(fired).toEqual(['broker']);
    const [firedEvent] = history.ofType('fault_fired');
    expect(firedEvent?.atMs).toBe(Date.UTC(2026, 0, 14, 6) + 1_500);
    expect(clock.pendingCount).toBe(0); // nothing left to wait for: the poll stops
    await scheduler.stop();
  });

  it('rejects a trigger it cannot read, naming the syntax', () => {
    const { scheduler } = world();
    expect(() => scheduler.plan('pipeline_restart', 'soon', async () => {})).toThrow(/not a fault trigger: "soon"/);
  });

  it('without a poll (a sim run): nothing before start(), then progress when asked and time at its due instant', async () => {
    const history = new History();
    const progress = { chunksStored: 0, chunksExpected: 1000, transfersInFlight: 0, rowsReceiving: 0 };
    const clock = new VirtualClock(0);
    const scheduler = new FaultScheduler(history, () => progress, undefined, clock, { poll: false });
    const fired: string[] = [];
    scheduler.plan('pipeline_restart', '40%', () => Promise.resolve(void fired.push(`restart@${clock.nowMs()}`)));
    scheduler.plan('broker_restart', '1500ms', () => Promise.resolve(void fired.push(`broker@${clock.nowMs()}`)));
    progress.chunksStored = 500;
    expect(scheduler.checkNow()).toBe(false); // not started
    clock.advanceTo(1000);
    scheduler.start();
    expect(clock.pendingCount).toBe(1); // the time trigger's timer, no poll
    await scheduler.settled();
    expect(fired).toEqual(['restart@1000']);
    clock.advanceTo(2499);
    await scheduler.settled();
    expect(fired).toEqual(['restart@1000']);
    clock.advanceTo(2500);
    await scheduler.settled();
    expect(fired).toEqual(['restart@1000', 'broker@2500']);
    await scheduler.stop();
    expect(clock.pendingCount).toBe(0);
  });
});
