// The forwarder's pure decisions: retry or not, the backoff, and the fault draws (seeded: the same stream gives the
// same faults, a rate of 0 never strikes and never shifts the later draws).
import { describe, expect, test } from 'vitest';
import { createRng } from '../../simulator/random/prng.ts';
import { faultMixes, type WebhookFaults } from '../nemesis/fault-plan.ts';
import { backoffMs, drawAttemptFaults, drawCopies, isRetryable, nextStep, webhookBody } from './core.ts';

const none = faultMixes.none.webhook;

describe('forwarder core', () => {
  test('a 2xx is delivered, a 4xx (or an unfollowed 3xx) refused at once, a 5xx, a timeout and an error retried', () => {
    expect(nextStep({ kind: 'status', status: 200 }, 1, 3)).toEqual({ kind: 'delivered' });
    expect(nextStep({ kind: 'status', status: 204 }, 4, 3)).toEqual({ kind: 'delivered' });
    expect(nextStep({ kind: 'status', status: 404 }, 1, 3)).toEqual({ kind: 'refused' });
    expect(nextStep({ kind: 'status', status: 302 }, 1, 3)).toEqual({ kind: 'refused' });
    expect(nextStep({ kind: 'status', status: 502 }, 1, 3)).toEqual({ kind: 'retry', afterMs: 100 });
    expect(nextStep({ kind: 'timeout' }, 2, 3)).toEqual({ kind: 'retry', afterMs: 200 });
    expect(nextStep({ kind: 'error', message: 'ECONNREFUSED' }, 3, 3)).toEqual({ kind: 'retry', afterMs: 400 });
    expect(isRetryable({ kind: 'status', status: 499 })).toBe(false);
  });

  test('retries stop after `retriesMax` retries: attempt retriesMax + 1 gives up', () => {
    expect(nextStep({ kind: 'timeout' }, 4, 3)).toEqual({ kind: 'give_up' });
    expect(nextStep({ kind: 'status', status: 500 }, 1, 0)).toEqual({ kind: 'give_up' });
  });

  test('the backoff doubles from 100 ms and stays at most 2 s', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(backoffMs)).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  test('no rates, no faults; rates of 1, every fault', () => {
    const rng = createRng(7);
    for (let i = 0; i < 50; i++) {
      expect(drawAttemptFaults(rng, none)).toEqual({ slow: undefined, replaceWith5xx: false });
      expect(drawCopies(rng, none)).toBe(1);
    }
    const all: WebhookFaults = { slowRate: 1, slowMs: 300, error5xxRate: 1, duplicateRate: 1 };
    const wheres = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const f = drawAttemptFaults(rng, all);
      expect(f.replaceWith5xx).toBe(true);
      expect(f.slow?.ms).toBe(300);
      wheres.add(f.slow?.where ?? 'none');
      expect(drawCopies(rng, all)).toBe(2);
    }
    expect([...wheres].sort()).toEqual(['answer', 'request']);
  });

  test('the draws are the seed\u2019s: the same seed gives the same faults, another seed others', () => {
    const faults: WebhookFaults = { slowRate: 0.3, slowMs: 50, error5xxRate: 0.3, duplicateRate: 0.3 };
    const draw = (seed: number) => {
      const rng = createRng(seed).fork('forwarder');
      return Array.from({ length: 40 }, () => ({ ...drawAttemptFaults(rng, faults), copies: drawCopies(rng, faults) }));
    };
    expect(draw(11)).toEqual(draw(11));
    expect(draw(11)).not.toEqual(draw(12));
    const struck = draw(11);
    expect(struck.some((f) => f.slow !== undefined)).toBe(true);
    expect(struck.some((f) => f.slow === undefined)).toBe(true);
  });

  test('a rate of 0 takes the same draws: switching one fault off does not move the others', () => {
    const on: WebhookFaults = { slowRate: 0.5, slowMs: 50, error5xxRate: 0.5, duplicateRate: 0 };
    const slowOff: WebhookFaults = { ...on, slowRate: 0 };
    const a = createRng(3);
    const b = createRng(3);
    for (let i = 0; i < 40; i++)
      expect(drawAttemptFaults(a, on).replaceWith5xx).toBe(drawAttemptFaults(b, slowOff).replaceWith5xx);
  });

  test('the body is {topic, payload} with the payload as UTF-8 text', () => {
    const payload = Buffer.from('{"device_id":"B8F862F9C1C4","image_name":"image_3.jpg","°C":1}');
    expect(JSON.parse(webhookBody('ESP32CAM/B8F862F9C1C4/data', payload))).toEqual({
      topic: 'ESP32CAM/B8F862F9C1C4/data',
      payload: payload.toString('utf8'),
    });
  });
});
