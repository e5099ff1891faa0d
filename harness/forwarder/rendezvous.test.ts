// The rendezvous of legacy-two-writers' service and the forwarder (rendezvous.ts), on the real clock with short
// waits: a metadata message is sent to the handler only after the service read, the service writes only after the
// handler answered, and the race is recorded only when both met — a side that never comes lets the other go after
// the bounded wait, and nothing is recorded.
import { describe, expect, test } from 'vitest';
import { History } from '../history/history.ts';
import { realClock } from '../world/live/real-clock.ts';
import { EdgeRendezvous, isMetadataMessage } from './rendezvous.ts';

const TOPIC = 'ESP32CAM/B8F862F9C1C4/data';
const META = JSON.stringify({
  device_id: 'B8F862F9C1C4',
  timestamp: '2026-01-14T10:00:00Z',
  image_name: 'image_3.jpg',
  image_size: 2048,
  max_chunks_size: 1024,
  total_chunk_count: 2,
});
const CHUNK = JSON.stringify({ device_id: 'B8F862F9C1C4', image_name: 'image_3.jpg', chunk_id: 0, payload: '' });

const races = (h: History) => h.events.filter((e) => e.type === 'nemesis' && e.fault === 'webhook_race');

describe('edge rendezvous', () => {
  test('metadata in both dialects is recognised; chunks, status and junk are not', () => {
    expect(isMetadataMessage(TOPIC, META)).toBe(true);
    const spec = META.replace('total_chunk_count', 'total_chunks_count');
    expect(isMetadataMessage('device/B8F862F9C1C4/data', spec)).toBe(true);
    expect(isMetadataMessage(TOPIC, CHUNK)).toBe(false);
    expect(isMetadataMessage('ESP32CAM/B8F862F9C1C4/status', META)).toBe(false);
    expect(isMetadataMessage(TOPIC, '{"total_chunk_count":')).toBe(false);
  });

  test('the send waits for the service read; the service write waits for the answer; the race is recorded', async () => {
    const history = new History();
    const r = new EdgeRendezvous(realClock, history, 2000);
    const order: string[] = [];
    const send = r.hooks.beforeSend(TOPIC, META).then(() => order.push('sent'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual([]); // not before the service read
    r.serviceRead(TOPIC, META);
    await send;
    const write = r.handlerAnswered(TOPIC, META).then((met) => order.push(`write ${met}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['sent']); // not before the handler answered
    r.hooks.answered(TOPIC, META);
    await write;
    expect(order).toEqual(['sent', 'write true']);
    expect(races(history)).toHaveLength(1);
    expect(races(history)[0]).toMatchObject({ target: 'B8F862F9C1C4' });
  });

  test('a handler that never answers: the service writes after the wait, and no race is recorded', async () => {
    const history = new History();
    const r = new EdgeRendezvous(realClock, history, 50);
    r.serviceRead(TOPIC, META);
    await r.hooks.beforeSend(TOPIC, META);
    expect(await r.handlerAnswered(TOPIC, META)).toBe(false);
    expect(races(history)).toHaveLength(0);
  });

  test('a send that went out without the service read (it waited in vain) does not count as the race', async () => {
    const history = new History();
    const r = new EdgeRendezvous(realClock, history, 50);
    await r.hooks.beforeSend(TOPIC, META); // no read within 50 ms
    r.hooks.answered(TOPIC, META);
    expect(await r.handlerAnswered(TOPIC, META)).toBe(true);
    expect(races(history)).toHaveLength(0);
  });

  test('chunks pass without waiting', async () => {
    const r = new EdgeRendezvous(realClock, undefined, 60_000);
    await r.hooks.beforeSend(TOPIC, CHUNK); // would time the test out if it waited
    r.hooks.answered(TOPIC, CHUNK);
  });

  test('once the pipeline has no second writer any more, the forwarder no longer waits', async () => {
    let legacy = true;
    const r = new EdgeRendezvous(realClock, undefined, 60_000);
    r.activeWhile(() => legacy);
    legacy = false; // the mid-run migration deployed fixed
    await r.hooks.beforeSend(TOPIC, META); // would time the test out if it waited
  });
});
