// Silence handling (PROTOCOL.md §4: "retries a silent server up to 3 times, then sleeps with the image still
// queued; it will be listed in the next HELLO").
import { describe, expect, it } from 'vitest';
import { Device, chunks, hellos, metadatas, ofType, types } from './test-support.ts';

describe('HELLO silence', () => {
  it('re-sends HELLO 3 times, then gives up and sleeps the default interval', () => {
    const dev = new Device();
    dev.online();
    for (let retry = 1; retry <= 3; retry++) {
      const effects = dev.fireTimer();
      expect(types(effects)).toEqual(['publish', 'set_timer']);
      expect(hellos(effects)).toHaveLength(1);
      expect(dev.state.ram.retryCount).toBe(retry);
    }
    const effects = dev.fireTimer();
    expect(types(effects)).toEqual(['gave_up', 'disconnect', 'sleep']);
    expect(effects[0]).toEqual({ type: 'gave_up', reason: 'hello_unanswered' });
    expect(ofType(effects, 'sleep')[0]).toEqual({
      type: 'sleep',
      untilMs: dev.nowMs + dev.state.config.wakeIntervalMsDefault,
      source: 'default',
    });
    expect(dev.state.ram.phase).toBe('asleep');
    expect(ofType(dev.log, 'publish')).toHaveLength(4); // 1 HELLO + 3 re-sends
  });

  it('any command answers HELLO: the hello timer is cancelled', () => {
    const dev = new Device();
    dev.online();
    const helloTimer = dev.state.ram.timer!.timerId;
    const effects = dev.msg({ kind: 'capture_image' });
    expect(ofType(effects, 'cancel_timer')).toEqual([{ type: 'cancel_timer', timerId: helloTimer }]);
  });

  it('ignores a stale or foreign timer id', () => {
    const dev = new Device();
    dev.online();
    const helloTimer = dev.state.ram.timer!.timerId;
    dev.msg({ kind: 'capture_image' });
    const before = dev.state;
    expect(dev.send({ type: 'timer', timerId: helloTimer })).toEqual([]);
    expect(dev.send({ type: 'timer', timerId: 'nonsense' })).toEqual([]);
    expect(dev.state).toBe(before);
  });
});

describe('image ACK silence', () => {
  it('re-sends the whole image 3 times, then gave_up + sleep with the image queued; next HELLO lists it', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    const first = dev.msg({ kind: 'capture_image' });
    const chunkTotal = chunks(first).length;
    for (let retry = 1; retry <= 3; retry++) {
      const effects = dev.fireTimer();
      expect(metadatas(effects).map((m) => m.image_name)).toEqual(['image_1.jpg']);
      expect(chunks(effects)).toHaveLength(chunkTotal);
      expect(effects.at(-1)).toMatchObject({ type: 'set_timer', afterMs: dev.state.config.ackTimeoutMs });
    }
    const effects = dev.fireTimer();
    expect(types(effects)).toEqual(['gave_up', 'disconnect', 'sleep']);
    expect(effects[0]).toEqual({ type: 'gave_up', reason: 'ack_timeout', image_name: 'image_1.jpg' });
    expect(ofType(effects, 'sleep')[0]).toMatchObject({ source: 'default' });
    expect(dev.queue).toEqual(['image_1.jpg']);
    expect(ofType(dev.log, 'dequeued')).toEqual([]);

    const hello = hellos(dev.online())[0];
    expect(hello?.pendingImg).toBe(1);
    expect(hello?.pending_list).toEqual(['image_1.jpg']);
  });

  it('missing_chunks is a server answer: it does not count as a retry', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    dev.fireTimer(); // retry 1
    dev.msg({ kind: 'missing_chunks', image_name: 'image_1.jpg', missing_chunks: [1] });
    expect(dev.state.ram.retryCount).toBe(1);
    dev.fireTimer(); // retry 2
    dev.fireTimer(); // retry 3
    expect(types(dev.fireTimer())).toEqual(['gave_up', 'disconnect', 'sleep']);
  });

  it('after giving up, a server wake time received earlier in this wake is honoured', () => {
    const dev = new Device({ imageKbMean: 4 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    dev.msg({ kind: 'next_wake', next_wake: '11:00PM' }); // deferred: image in flight
    for (let i = 0; i < 3; i++) dev.fireTimer();
    const effects = dev.fireTimer();
    expect(ofType(effects, 'sleep')[0]).toEqual({
      type: 'sleep',
      untilMs: Date.UTC(2026, 0, 14, 23, 0),
      source: 'server',
    });
  });

  it('retryCountMax 0: gives up on the first silence', () => {
    const dev = new Device({ imageKbMean: 4, retryCountMax: 0 });
    dev.online();
    dev.msg({ kind: 'capture_image' });
    expect(types(dev.fireTimer())).toEqual(['gave_up', 'disconnect', 'sleep']);
  });
});
