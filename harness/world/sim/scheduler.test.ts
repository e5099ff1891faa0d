// The seeded scheduler over the router and the virtual clock: a run is a function of its seed (same seed, same
// schedule and same outcome; other seeds, other interleavings), each publisher's order holds in every schedule,
// and time moves only when nothing else can happen.
import { describe, expect, test } from 'vitest';
import { createRng } from '../../../simulator/random/prng.ts';
import type { MqttLink } from '../../pipeline/mqtt-link.ts';
import { createDeviceTransport } from './device-transport.ts';
import { connectRouterLink } from './router-link.ts';
import { routerSteps } from './router-steps.ts';
import { Router } from './router.ts';
import { SimScheduler, type SimStep, type StepChooser, type StepSource } from './scheduler.ts';
import { VirtualClock } from './virtual-clock.ts';

interface ToyOutcome {
  readonly digest: string;
  readonly serverSaw: string[];
  readonly repliesSeen: Map<string, number>;
  readonly virtualMs: number;
  readonly stop: string;
}

/**
 * Three devices each publish 5 numbered messages at the same virtual instants (every 100 ms), so only the
 * scheduler's choices tell the runs of different seeds apart; a server answers each after 10 virtual ms.
 * Everything goes through one manual router.
 */
async function runToy(seed: number): Promise<ToyOutcome> {
  const clock = new VirtualClock(1_000_000);
  const router = new Router({ delivery: 'manual', timers: clock });
  const serverSaw: string[] = [];
  const repliesSeen = new Map<string, number>();
  const server: { link?: MqttLink } = {};
  server.link = await connectRouterLink(router, {
    clientId: 'server',
    subscriptions: ['dev/+/up'],
    log: () => {},
    pressured: () => false,
    onMessage: (topic, payload) => {
      serverSaw.push(`${topic}:${payload.toString()}`);
      const device = topic.split('/')[1] ?? '?';
      void clock.sleep(10).then(() => server.link?.publish(`dev/${device}/down`, payload.toString()));
    },
  });
  const devices = ['A', 'B', 'C'];
  for (const id of devices) {
    const t = createDeviceTransport(
      router,
      { clientId: id, qos: 1 },
      { onMessage: () => repliesSeen.set(id, (repliesSeen.get(id) ?? 0) + 1), onLost: () => {} },
    );
    await t.connect([`dev/${id}/down`]);
    for (let n = 0; n < 5; n++) clock.setTimeout(() => t.publish(`dev/${id}/up`, String(n)), 100 * (n + 1));
  }
  const scheduler = new SimScheduler({ rng: createRng(seed).fork('schedule'), clock, sources: [routerSteps(router)] });
  const result = await scheduler.runUntil(() => false);
  return {
    digest: result.scheduleDigest,
    serverSaw,
    repliesSeen,
    virtualMs: clock.nowMs() - 1_000_000,
    stop: result.stop,
  };
}

describe('SimScheduler over the router and the virtual clock', () => {
  test('same seed → the same schedule and the same outcome, byte for byte', async () => {
    const a = await runToy(7);
    const b = await runToy(7);
    expect(b.digest).toBe(a.digest);
    expect(b.serverSaw).toEqual(a.serverSaw);
    expect(a.stop).toBe('quiescent');
    expect(a.serverSaw).toHaveLength(15);
    expect([...a.repliesSeen.values()]).toEqual([5, 5, 5]);
  });

  test('other seeds give other interleavings (only the schedule differs), each publisher’s order held in every one', async () => {
    const digests = new Set<string>();
    const orders = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const r = await runToy(seed);
      digests.add(r.digest);
      orders.add(r.serverSaw.join(','));
      for (const id of ['A', 'B', 'C']) {
        const mine = r.serverSaw.filter((s) => s.startsWith(`dev/${id}/`)).map((s) => s.split(':')[1]);
        expect(mine).toEqual(['0', '1', '2', '3', '4']);
      }
    }
    expect(digests.size).toBeGreaterThan(10);
    expect(orders.size).toBeGreaterThan(10);
  });

  test('time moves only when nothing else can happen: a due timer waits for every possible delivery', async () => {
    const clock = new VirtualClock(0);
    const router = new Router({ delivery: 'manual', timers: clock });
    const got: string[] = [];
    const sub = createDeviceTransport(
      router,
      { clientId: 'sub', qos: 1 },
      {
        onMessage: (_t, p) => got.push(p.toString()),
        onLost: () => {},
      },
    );
    const pub = createDeviceTransport(router, { clientId: 'pub', qos: 1 }, { onMessage: () => {}, onLost: () => {} });
    await sub.connect(['t']);
    await pub.connect([]);
    for (let i = 0; i < 10; i++) pub.publish('t', `m${i}`);
    clock.setTimeout(() => got.push('timer'), 0);
    const scheduler = new SimScheduler({ rng: createRng(1), clock, sources: [routerSteps(router)], keepTrace: true });
    const result = await scheduler.runUntil(() => false);
    expect(got).toEqual([...Array.from({ length: 10 }, (_, i) => `m${i}`), 'timer']);
    expect(result.trace?.at(-1)).toBe('time 1');
    expect(result.timersFired).toBe(1);
  });

  test('hours of virtual sleep cost nothing, and stepsMax stops a run that never quiesces', async () => {
    const clock = new VirtualClock(0);
    let ticks = 0;
    clock.setInterval(() => ticks++, 3_600_000); // once an hour, forever
    const scheduler = new SimScheduler({ rng: createRng(1), clock, sources: [], stepsMax: 1000 });
    const result = await scheduler.runUntil(() => false);
    expect(result.stop).toBe('steps_max');
    expect(ticks).toBe(1000);
    expect(clock.nowMs()).toBe(1000 * 3_600_000);
  });

  test('an injected chooser decides instead of the seed: followed exactly, asked only between two or more steps', async () => {
    // Two actors, each a queue of steps; the head of each non-empty queue is possible.
    const actors = (): { source: StepSource; ran: string[] } => {
      const queues = [
        ['A1', 'A2'],
        ['B1', 'B2'],
      ];
      const ran: string[] = [];
      const source: StepSource = {
        steps: () =>
          queues.flatMap((q): SimStep[] =>
            q.length === 0 ? [] : [{ label: q[0]!, run: () => void ran.push(q.shift()!) }],
          ),
      };
      return { source, ran };
    };
    const run = async (choose: StepChooser) => {
      const { source, ran } = actors();
      const scheduler = new SimScheduler({ rng: createRng(1), clock: new VirtualClock(0), sources: [source], choose });
      const result = await scheduler.runUntil(() => false);
      return { ran, result };
    };
    const offered: number[] = [];
    const last = await run((steps) => {
      offered.push(steps.length);
      return steps.length - 1;
    });
    expect(last.ran).toEqual(['B1', 'B2', 'A1', 'A2']);
    expect(offered).toEqual([2, 2]); // then only A's steps are left: no choice, not asked
    expect(last.result.stop).toBe('quiescent');

    // Depth-first over the choices: every interleaving of 2 + 2 steps, C(4, 2) = 6, each once.
    const seen = new Set<string>();
    const todo: number[][] = [[]];
    for (let prefix = todo.pop(); prefix !== undefined; prefix = todo.pop()) {
      const taken: number[] = [];
      const widths: number[] = [];
      const { ran } = await run((steps) => {
        const choice = prefix[taken.length] ?? 0;
        taken.push(choice);
        widths.push(steps.length);
        return choice;
      });
      seen.add(ran.join(' '));
      for (let i = widths.length - 1; i >= prefix.length; i--)
        for (let alt = widths[i]! - 1; alt >= 1; alt--) todo.push([...taken.slice(0, i), alt]);
    }
    expect(seen.size).toBe(6);

    await expect(run((steps) => steps.length)).rejects.toThrow(/the chooser picked 2 of 2 steps/);
  });
});
