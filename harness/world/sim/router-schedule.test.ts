// The stepping API as a scheduler sees it: deliverable()/deliver() reach every interleaving that respects
// per-publisher order (§4.6) and no other, and under any choice of steps order holds and QoS 1 is never lost.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { connectRouterLink } from './router-link.ts';
import { Router } from './router.ts';
import { recordingDevice } from './test-support.ts';

describe('interleavings', () => {
  /** A fresh router, 2 publishers × 2 messages to one subscriber, then `choices` as indexes into deliverable(). */
  async function replay(choices: readonly number[]): Promise<{ got: string[]; next: number }> {
    const router = new Router({ delivery: 'manual' });
    const s = recordingDevice(router, 'S');
    const a = recordingDevice(router, 'A');
    const b = recordingDevice(router, 'B');
    await Promise.all([s.connect(['t/#']), a.connect(), b.connect()]);
    a.transport.publish('t/a', '1');
    b.transport.publish('t/b', '1');
    a.transport.publish('t/a', '2');
    b.transport.publish('t/b', '2');
    for (const choice of choices) router.deliver(router.deliverable()[choice]!);
    return { got: s.got.map((g) => g.replace('t/', '').replace(' ', '')), next: router.deliverable().length };
  }

  async function explore(prefix: number[], out: string[][]): Promise<void> {
    const { got, next } = await replay(prefix);
    if (next === 0) out.push(got);
    for (let i = 0; i < next; i++) await explore([...prefix, i], out);
  }

  function permutations<T>(xs: readonly T[]): T[][] {
    if (xs.length <= 1) return [[...xs]];
    return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
  }

  test('2 publishers × 2 messages: exactly the 6 order-respecting interleavings, each once', async () => {
    const reached: string[][] = [];
    await explore([], reached);
    const respecting = permutations(['a1', 'a2', 'b1', 'b2']).filter(
      (p) => p.indexOf('a1') < p.indexOf('a2') && p.indexOf('b1') < p.indexOf('b2'),
    );
    expect(respecting).toHaveLength(6);
    expect(reached.map((r) => r.join(' ')).sort()).toEqual(respecting.map((r) => r.join(' ')).sort());
  });
});

type Op =
  | { readonly kind: 'publish'; readonly publisher: number; readonly qos: 0 | 1 }
  | { readonly kind: 'deliver'; readonly choice: number }
  | { readonly kind: 'pressure'; readonly on: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('publish' as const),
      publisher: fc.nat(2),
      qos: fc.constantFrom<0 | 1>(0, 1),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), choice: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pressure' as const), on: fc.boolean() }) },
);

test('property: under any publishes and any choice of deliveries, per-publisher order holds and QoS 1 is never lost', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 80 }), fc.integer({ min: 1, max: 4 }), async (ops, maxInflight) => {
      const router = new Router({ delivery: 'manual', maxInflightMessages: maxInflight });
      const device = recordingDevice(router, 'S');
      await device.connect(['p/#']);
      const linkGot: string[] = [];
      let pressured = false;
      const link = await connectRouterLink(router, {
        clientId: 'L',
        subscriptions: ['p/+/n'],
        log: () => {},
        onMessage: (_topic, payload) => linkGot.push(payload.toString()),
        pressured: () => pressured,
      });
      // Raw connections, so that one publisher can mix QoS 0 and 1 (a transport has one QoS).
      const publishers = [0, 1, 2].map((i) => router.connect(`P${i}`, true, { receive: () => {}, lost: () => {} }));
      const published: Array<{ publisher: number; n: number; qos: 0 | 1 }> = [];
      for (const op of ops) {
        if (op.kind === 'publish') {
          const n = published.filter((m) => m.publisher === op.publisher).length;
          published.push({ publisher: op.publisher, n, qos: op.qos });
          router.publish(publishers[op.publisher]!, `p/${op.publisher}/n`, `${op.publisher}:${n}`, op.qos);
        } else if (op.kind === 'deliver') {
          const ds = router.deliverable();
          if (ds.length > 0) router.deliver(ds[op.choice % ds.length]!);
        } else {
          pressured = op.on;
        }
      }
      pressured = false;
      router.drain();

      const deviceGot = device.got.map((g) => g.split(' ')[1]!);
      for (const got of [deviceGot, linkGot]) {
        for (const publisher of [0, 1, 2]) {
          const seen = got.filter((g) => g.startsWith(`${publisher}:`)).map((g) => Number(g.split(':')[1]));
          // strictly increasing: in order, and no message twice
          expect(seen.every((n, i) => i === 0 || n > seen[i - 1]!)).toBe(true);
          const qos1 = published.filter((m) => m.publisher === publisher && m.qos === 1).map((m) => m.n);
          expect(qos1.every((n) => seen.includes(n))).toBe(true);
        }
      }
      await link.end();
    }),
    { numRuns: 300 },
  );
});
