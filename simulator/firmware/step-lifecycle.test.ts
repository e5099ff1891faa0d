// Power, connectivity and persistence: reboot, offline wakes, dropped sessions, counter reset.
import { describe, expect, it } from 'vitest';
import { withImageCounter } from './state.ts';
import { Device, hellos, metadatas, ofType, types } from './test-support.ts';

describe('reboot', () => {
  it('mid-transfer keeps SD queue and flash counter, loses RAM, and wakes again', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    dev.msg({ kind: 'capture_image' });
    const persistentBefore = dev.state.persistent;
    const ackTimer = dev.state.ram.timer!.timerId;
    expect(dev.state.ram.inFlight).toBe(1);

    const effects = dev.send({ type: 'reboot' });
    const bootTimer = dev.state.ram.timer!.timerId;
    expect(effects).toEqual([
      { type: 'cancel_timer', timerId: ackTimer },
      { type: 'disconnect' },
      { type: 'set_timer', timerId: bootTimer, afterMs: dev.state.config.bootMs },
    ]);
    expect(bootTimer).not.toBe(ackTimer);
    expect(dev.state.persistent.sd).toBe(persistentBefore.sd);
    expect(dev.state.persistent.flash).toBe(persistentBefore.flash);
    expect(dev.state.persistent.flash.imageCounter).toBe(2);
    expect(dev.state.ram.phase).toBe('booting');
    // Booting: nothing reaches it, no other timer fires, a wake does not start one early.
    expect(dev.send({ type: 'timer', timerId: ackTimer })).toEqual([]);
    expect(dev.send({ type: 'wake' })).toEqual([]);
    expect(dev.send({ type: 'message', message: { kind: 'capture_image' } })).toEqual([]);
    // Booted: it connects again.
    expect(dev.send({ type: 'timer', timerId: bootTimer })).toEqual([{ type: 'connect' }]);
    expect(dev.state.ram).toMatchObject({
      phase: 'connecting',
      inFlight: null,
      retryCount: 0,
      timer: null,
      drain: null,
      wakeAtMs: null,
    });

    // the pre-reboot timer is dead; the new session lists both images
    expect(dev.send({ type: 'timer', timerId: ackTimer })).toEqual([]);
    const hello = hellos(dev.send({ type: 'connected' }))[0];
    expect(hello?.pending_list).toEqual(['image_1.jpg', 'image_2.jpg']);
    // the counter continues: no name reuse after a plain reboot
    expect(ofType(dev.msg({ kind: 'capture_image' }), 'captured')[0]?.image.name).toBe('image_3.jpg');
  });

  it('works from any phase, including asleep and never-woken', () => {
    const off = new Device();
    expect(types(off.send({ type: 'reboot' }))).toEqual(['disconnect', 'set_timer']);
    expect(types(off.send({ type: 'timer', timerId: off.state.ram.timer!.timerId }))).toEqual(['connect']);
    const asleep = new Device();
    asleep.online();
    asleep.msg({ kind: 'next_wake', next_wake: '1:00PM' });
    expect(types(asleep.send({ type: 'reboot' }))).toEqual(['disconnect', 'set_timer']);
  });

  it('a reboot while booting starts the boot again, and only the newest boot timer wakes it', () => {
    const dev = new Device();
    dev.send({ type: 'reboot' });
    const first = dev.state.ram.timer!.timerId;
    expect(types(dev.send({ type: 'reboot' }))).toEqual(['cancel_timer', 'disconnect', 'set_timer']);
    const second = dev.state.ram.timer!.timerId;
    expect(second).not.toBe(first);
    expect(dev.send({ type: 'timer', timerId: first })).toEqual([]);
    expect(types(dev.send({ type: 'timer', timerId: second }))).toEqual(['connect']);
  });
});

describe('offline wakes', () => {
  it('each failed connection captures one image and sleeps the default interval', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.send({ type: 'wake' });
    const effects = dev.send({ type: 'connect_failed' });
    expect(types(effects)).toEqual(['captured', 'sleep']);
    expect(ofType(effects, 'sleep')[0]).toEqual({
      type: 'sleep',
      untilMs: dev.nowMs + dev.state.config.wakeIntervalMsDefault,
      source: 'default',
    });
    expect(dev.queue).toEqual(['image_1.jpg']);
  });

  it('captureWhenOffline false: sleeps without capturing', () => {
    const dev = new Device({ captureWhenOffline: false });
    dev.send({ type: 'wake' });
    expect(types(dev.send({ type: 'connect_failed' }))).toEqual(['sleep']);
    expect(dev.queue).toEqual([]);
  });

  it('5 offline days queue 5 images; then HELLO pendingImg=5, capture + send_all_pending drain all 6', () => {
    const day = 24 * 60 * 60 * 1000;
    const dev = new Device({ imageKbMean: 4 });
    for (let i = 0; i < 5; i++) {
      dev.send({ type: 'wake' }, i === 0 ? 0 : day);
      dev.send({ type: 'connect_failed' });
    }
    const stamps = dev.state.persistent.sd.queue.map((q) => q.captureTimestamp);
    expect(stamps).toEqual([
      '2026-01-14T10:00:00Z',
      '2026-01-15T10:00:00Z',
      '2026-01-16T10:00:00Z',
      '2026-01-17T10:00:00Z',
      '2026-01-18T10:00:00Z',
    ]);
    dev.send({ type: 'wake' }, day);
    const hello = hellos(dev.send({ type: 'connected' }))[0];
    expect(hello?.pendingImg).toBe(5);

    dev.msg({ kind: 'capture_image' });
    dev.msg({ kind: 'ack_ok', image_name: 'image_6.jpg' }); // the ACK_OK:true form
    const sentNames: string[] = [];
    let effects = dev.msg({ kind: 'send_all_pending' });
    for (let guard = 0; guard < 10 && dev.queue.length > 0; guard++) {
      const meta = metadatas(effects)[0];
      if (meta === undefined) break;
      sentNames.push(meta.image_name);
      const last = dev.queue.length === 1;
      effects = dev.msg(
        last
          ? { kind: 'ack_ok', image_name: meta.image_name, next_wake_time: '10:00AM' }
          : { kind: 'ack_ok', image_name: meta.image_name },
      );
    }
    expect(sentNames).toEqual(['image_1.jpg', 'image_2.jpg', 'image_3.jpg', 'image_4.jpg', 'image_5.jpg']);
    expect(dev.queue).toEqual([]);
    expect(ofType(dev.log, 'dequeued').map((d) => d.image_name)).toHaveLength(6);
    expect(ofType(effects, 'sleep')).toHaveLength(1);
  });
});

describe('connection drops', () => {
  it('an unexpected disconnect reconnects and re-announces; the in-flight image stays queued', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    const effects = dev.send({ type: 'disconnected' });
    expect(types(effects)).toEqual(['cancel_timer', 'connect']);
    expect(dev.state.ram.inFlight).toBeNull();
    expect(hellos(dev.send({ type: 'connected' }))[0]?.pending_list).toEqual(['image_1.jpg']);
  });

  it('after retryCountMax reconnects in one wake it sleeps; a failed reconnect does not capture', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    for (let i = 0; i < 3; i++) {
      expect(types(dev.send({ type: 'disconnected' }))).toEqual(['cancel_timer', 'connect']);
      dev.send({ type: 'connected' });
    }
    expect(types(dev.send({ type: 'disconnected' }))).toEqual(['cancel_timer', 'sleep']);

    const dev2 = new Device({ imageKbMean: 4 });
    dev2.online();
    dev2.send({ type: 'disconnected' });
    expect(types(dev2.send({ type: 'connect_failed' }))).toEqual(['sleep']);
    expect(dev2.queue).toEqual([]);
  });

  it('inputs that do not apply to the phase are ignored', () => {
    const dev = new Device();
    const off = dev.state;
    for (const input of [
      { type: 'connected' },
      { type: 'connect_failed' },
      { type: 'disconnected' },
      { type: 'timer', timerId: 'x' },
      { type: 'message', message: { kind: 'capture_image' } },
    ] as const) {
      expect(dev.send(input)).toEqual([]);
      expect(dev.state).toBe(off);
    }
    dev.online();
    const online = dev.state;
    expect(dev.send({ type: 'wake' })).toEqual([]);
    expect(dev.send({ type: 'connected' })).toEqual([]);
    expect(dev.send({ type: 'bogus' } as never)).toEqual([]);
    expect(dev.msg({ kind: 'bogus' } as never)).toEqual([]);
    expect(dev.send(null as never)).toEqual([]);
    expect(dev.state).toBe(online);
  });
});

describe('flash counter reset (name reuse)', () => {
  it('reuses image_1.jpg for a different picture; an ACK dequeues the one in flight', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.send({ type: 'wake' });
    dev.send({ type: 'connect_failed' }); // old image_1.jpg stays queued
    dev.state = withImageCounter(dev.state, 0);
    dev.online();
    const captured = ofType(dev.msg({ kind: 'capture_image' }), 'captured')[0]!.image;
    expect(captured.name).toBe('image_1.jpg');
    expect(captured.captureSeq).toBe(1);
    const [old, fresh] = dev.state.persistent.sd.queue;
    expect(old?.sha256).not.toBe(fresh?.sha256);
    const dequeued = ofType(dev.msg({ kind: 'ack_ok', image_name: 'image_1.jpg' }), 'dequeued');
    expect(dequeued).toEqual([{ type: 'dequeued', image_name: 'image_1.jpg', sha256: fresh?.sha256, captureSeq: 1 }]);
    expect(dev.state.persistent.sd.queue.map((q) => q.captureSeq)).toEqual([0]);
  });
});
