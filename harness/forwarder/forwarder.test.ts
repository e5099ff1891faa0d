// The forwarder's adapter against a real HTTP handler (node:http on a free port): retries of a 5xx, a timeout
// while the handler still works (the retry runs beside the first request), a 4xx not retried, a handler that is not
// there, and the forwarder's own faults — each attempt and each fault in the history. The handler here holds a
// request until the test lets it go, so no outcome depends on how fast this machine is.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { createRng } from '../../simulator/random/prng.ts';
import { History } from '../history/history.ts';
import type { HistoryEvent } from '../history/events.ts';
import { faultMixes, type WebhookFaults } from '../nemesis/fault-plan.ts';
import { WebhookDeliverer, type WebhookDelivererOptions } from './forwarder.ts';

const TOPIC = 'ESP32CAM/B8F862F9C1C4/data';
const PAYLOAD = '{"device_id":"B8F862F9C1C4","image_name":"image_1.jpg","chunk_id":0,"payload":"/9j/"}';

interface Received {
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
  readonly res: ServerResponse;
}

/** A handler whose answers the test decides: `answer` gets each request (in arrival order) and may answer it now,
 *  later, or never. */
async function handler(answer: (r: Received, index: number) => void): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const r = { body, headers: req.headers, res };
      received.push(r);
      answer(r, received.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

function deliverer(url: string, more: Partial<WebhookDelivererOptions> = {}) {
  const history = new History();
  const d = new WebhookDeliverer({
    url,
    timeoutMs: 2000,
    retries: 3,
    faults: faultMixes.none.webhook,
    rng: createRng(1).fork('forwarder'),
    history,
    ...more,
  });
  return { d, history };
}

const attempts = (h: History) => h.ofType('webhook_delivery').map((e) => [e.attempt, e.outcome, e.next]);
const nemesis = (h: History, fault: string) =>
  h.events.filter((e): e is Extract<HistoryEvent, { type: 'nemesis' }> => e.type === 'nemesis' && e.fault === fault);

describe('webhook forwarder against a real HTTP handler', () => {
  test('a fine handler gets POST {topic, payload} once; one attempt, delivered', async () => {
    const h = await handler((r) => r.res.writeHead(200).end('ok'));
    const { d, history } = deliverer(h.url);
    await d.deliver(TOPIC, Buffer.from(PAYLOAD));
    expect(h.received).toHaveLength(1);
    expect(JSON.parse(h.received[0]?.body ?? '')).toEqual({ topic: TOPIC, payload: PAYLOAD });
    expect(h.received[0]?.headers['content-type']).toBe('application/json');
    expect(attempts(history)).toEqual([[1, '200', 'delivered']]);
    expect(d.stats()).toMatchObject({ messages: 1, attempts: 1, delivered: 1, retried: 0, gaveUp: 0 });
  });

  test('500, 503, then 200: retried twice, delivered', async () => {
    const h = await handler((r, i) => r.res.writeHead(i === 0 ? 500 : i === 1 ? 503 : 200).end());
    const { d, history } = deliverer(h.url);
    await d.deliver(TOPIC, PAYLOAD);
    expect(attempts(history)).toEqual([
      [1, '500', 'retry'],
      [2, '503', 'retry'],
      [3, '200', 'delivered'],
    ]);
    expect(d.stats()).toMatchObject({ attempts: 3, retried: 2, answered5xx: 2, delivered: 1, gaveUp: 0 });
    expect(h.received).toHaveLength(3);
  });

  test('always 500: given up after the retries (retries + 1 attempts)', async () => {
    const h = await handler((r) => r.res.writeHead(500).end());
    const { d, history } = deliverer(h.url, { retries: 2 });
    await d.deliver(TOPIC, PAYLOAD);
    expect(attempts(history).map(([, , next]) => next)).toEqual(['retry', 'retry', 'give_up']);
    expect(d.stats()).toMatchObject({ attempts: 3, gaveUp: 1, delivered: 0 });
  });

  test('a 4xx is recorded and not retried', async () => {
    const h = await handler((r) => r.res.writeHead(422).end('no'));
    const { d, history } = deliverer(h.url);
    await d.deliver(TOPIC, PAYLOAD);
    expect(attempts(history)).toEqual([[1, '422', 'refused']]);
    expect(d.stats()).toMatchObject({ attempts: 1, refused: 1, retried: 0 });
  });

  test('a slow handler: the forwarder times out and retries while the first request still runs', async () => {
    // The handler answers nothing until both requests are in: the second is a repeated delivery beside the first.
    const h = await handler((_r, i) => {
      if (i === 1) for (const r of h.received) r.res.writeHead(200).end();
    });
    const { d, history } = deliverer(h.url, { timeoutMs: 100, retries: 1 });
    await d.deliver(TOPIC, PAYLOAD);
    expect(h.received).toHaveLength(2);
    expect(h.received.map((r) => r.body)).toEqual([h.received[0]?.body, h.received[0]?.body]);
    const first = history.ofType('webhook_delivery')[0];
    expect(first).toMatchObject({ attempt: 1, outcome: 'timeout', next: 'retry' });
    expect(first?.ms).toBeGreaterThanOrEqual(90);
    expect(d.stats()).toMatchObject({ attempts: 2, timedOut: 1, retried: 1 });
  });

  test('a handler that never answers: every attempt times out, then the forwarder gives up', async () => {
    const h = await handler(() => {});
    const { d, history } = deliverer(h.url, { timeoutMs: 50, retries: 2 });
    await d.deliver(TOPIC, PAYLOAD);
    expect(attempts(history)).toEqual([
      [1, 'timeout', 'retry'],
      [2, 'timeout', 'retry'],
      [3, 'timeout', 'give_up'],
    ]);
    expect(h.received).toHaveLength(3);
    expect(d.stats()).toMatchObject({ timedOut: 3, gaveUp: 1 });
  });

  test('nobody listening: a network error, retried, given up; the error is recorded', async () => {
    const h = await handler(() => {});
    const url = h.url;
    for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
    const { d, history } = deliverer(url, { retries: 1 });
    await d.deliver(TOPIC, PAYLOAD);
    const events = history.ofType('webhook_delivery');
    expect(events.map((e) => [e.outcome, e.next])).toEqual([
      ['error', 'retry'],
      ['error', 'give_up'],
    ]);
    expect(events[0]?.error).toMatch(/ECONNREFUSED/);
    expect(d.stats()).toMatchObject({ networkErrors: 2, gaveUp: 1 });
  });

  test('a password in the URL goes as Basic auth, and never into the history', async () => {
    const h = await handler((r) => r.res.writeHead(200).end());
    const url = h.url.replace('http://', 'http://hook:s3cret@');
    const { d, history } = deliverer(url);
    await d.deliver(TOPIC, PAYLOAD);
    expect(h.received[0]?.headers.authorization).toBe(`Basic ${Buffer.from('hook:s3cret').toString('base64')}`);
    expect(JSON.stringify(history.events)).not.toContain('s3cret');
  });
});

describe("the forwarder's own faults, between the forwarder and a real handler", () => {
  const faults = (f: Partial<WebhookFaults>): WebhookFaults => ({ ...faultMixes.none.webhook, ...f });

  test('5xx: the handler answered 200 and did its work, the forwarder got a 502 and delivered again', async () => {
    const h = await handler((r) => r.res.writeHead(200).end());
    const { d, history } = deliverer(h.url, { faults: faults({ error5xxRate: 1 }), retries: 2 });
    await d.deliver(TOPIC, PAYLOAD);
    expect(h.received).toHaveLength(3); // every attempt reached the handler: two repeated deliveries
    expect(attempts(history).map(([, outcome]) => outcome)).toEqual(['502', '502', '502']);
    expect(nemesis(history, 'webhook_5xx')).toHaveLength(3);
    expect(nemesis(history, 'webhook_5xx')[0]?.detail).toContain('the handler answered 200');
  });

  test('duplicate: one message delivered twice at once, both copies numbered apart', async () => {
    const h = await handler((_r, i) => {
      if (i === 1) for (const r of h.received) r.res.writeHead(200).end();
    });
    const { d, history } = deliverer(h.url, { faults: faults({ duplicateRate: 1 }) });
    await d.deliver(TOPIC, PAYLOAD);
    expect(h.received).toHaveLength(2); // both were in before either was answered
    expect(nemesis(history, 'webhook_duplicate')).toHaveLength(1);
    expect(new Set(history.ofType('webhook_delivery').map((e) => e.delivery)).size).toBe(2);
    expect(d.stats()).toMatchObject({ messages: 1, copies: 2, delivered: 2 });
  });

  test('slow past the timeout: the attempt times out, the held copy still reaches the handler', async () => {
    const h = await handler((r) => r.res.writeHead(200).end());
    const { d, history } = deliverer(h.url, {
      faults: faults({ slowRate: 1, slowMs: 200 }),
      timeoutMs: 50,
      retries: 0,
    });
    await d.deliver(TOPIC, PAYLOAD);
    expect(attempts(history)).toEqual([[1, 'timeout', 'give_up']]);
    expect(nemesis(history, 'webhook_slow')).toHaveLength(1);
    expect(await d.idle(5000)).toBe(true); // the network's copy, held, is sent on (or its answer comes back)
    expect(h.received).toHaveLength(1);
  });

  test('the same seed strikes the same attempts with the same faults', async () => {
    const h = await handler((r) => r.res.writeHead(200).end());
    const run = async () => {
      const { d, history } = deliverer(h.url, {
        faults: faults({ error5xxRate: 0.4, duplicateRate: 0.4 }),
        rng: createRng(42).fork('forwarder'),
        retries: 3,
      });
      for (let i = 0; i < 8; i++) await d.deliver(TOPIC, `${PAYLOAD}${i}`);
      return history.events.map((e) =>
        e.type === 'nemesis'
          ? `${e.fault}`
          : e.type === 'webhook_delivery'
            ? `${e.delivery}:${e.attempt}:${e.outcome}`
            : '',
      );
    };
    const first = await run();
    expect(first.some((e) => e === 'webhook_5xx')).toBe(true);
    expect(await run()).toEqual(first);
  });

  test('faults that found the handler failing are not counted as exercised: no webhook_5xx over a 500, no webhook_duplicate of refused copies', async () => {
    const h = await handler((r) => r.res.writeHead(500).end('db down'));
    const { d, history } = deliverer(h.url, { faults: faults({ error5xxRate: 1, duplicateRate: 1 }), retries: 1 });
    await d.deliver(TOPIC, PAYLOAD);
    expect(h.received).toHaveLength(4); // two copies, each tried twice
    expect(nemesis(history, 'webhook_5xx')).toEqual([]);
    expect(nemesis(history, 'webhook_duplicate')).toEqual([]);
    expect(d.stats()).toMatchObject({ gaveUp: 2, delivered: 0 });
  });

  test('cancel(): a request still under way is aborted and nothing is retried after it', async () => {
    const h = await handler(() => {}); // never answers
    const { d, history } = deliverer(h.url, { timeoutMs: 60_000, retries: 3 });
    const delivered = d.deliver(TOPIC, PAYLOAD);
    await expect.poll(() => h.received.length).toBe(1);
    d.cancel();
    await delivered;
    expect(await d.idle(5000)).toBe(true);
    expect(attempts(history)).toEqual([[1, 'error', 'give_up']]);
    expect(h.received).toHaveLength(1);
  });
});
