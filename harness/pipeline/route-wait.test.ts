// Chunks held for their route (route-wait.ts), on a virtual clock: released with the route once it is found,
// refused after the wait, one look-up loop per image however many chunks wait, dropped by stop().
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import { RouteWait, type HeldChunk } from './route-wait.ts';

/** Lets the look-up's promise settle after a timer fired it. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder() {
  const events: string[] = [];
  const chunk = (id: number): HeldChunk<string> => ({
    resume: (route) => events.push(`${id}→${route}`),
    refuse: () => events.push(`${id} refused`),
  });
  return { events, chunk };
}

async function advance(clock: VirtualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t++) {
    clock.advanceBy(1);
    await settle();
  }
}

describe('RouteWait', () => {
  it('releases every held chunk of an image with its route once the look-up finds it', async () => {
    const clock = new VirtualClock();
    let route: string | undefined = undefined;
    let lookups = 0;
    const wait = new RouteWait<string>({ waitMs: 1000, clock, onError: () => {} });
    const { events, chunk } = recorder();
    const lookup = () => {
      lookups++;
      return Promise.resolve(route);
    };
    wait.hold('dev|image_1.jpg', chunk(0), lookup);
    wait.hold('dev|image_1.jpg', chunk(1), lookup);
    expect(wait.held).toBe(2);
    expect(wait.isWaiting('dev|image_1.jpg')).toBe(true);
    await advance(clock, 40);
    expect(events).toEqual([]);
    route = 'transfer-A'; // the other consumer's metadata committed
    await advance(clock, 200);
    expect(events).toEqual(['0→transfer-A', '1→transfer-A']);
    expect(wait.held).toBe(0);
    expect(wait.busy).toBe(false);
    // One loop for the image, polling at 5, 10, 20, 40 … ms: a handful of look-ups, not one per chunk per poll.
    expect(lookups).toBeGreaterThan(2);
    expect(lookups).toBeLessThan(10);
  });

  it('refuses the held chunks once waitMs has passed without a route', async () => {
    const clock = new VirtualClock();
    const wait = new RouteWait<string>({ waitMs: 300, clock, onError: () => {} });
    const { events, chunk } = recorder();
    wait.hold('k', chunk(7), () => Promise.resolve(undefined));
    await advance(clock, 250);
    expect(events).toEqual([]);
    await advance(clock, 300);
    expect(events).toEqual(['7 refused']);
    await wait.idle();
  });

  it('waits past waitMs while the route may yet come from this process (its device busy here), up to 6× waitMs', async () => {
    const clock = new VirtualClock();
    const wait = new RouteWait<string>({ waitMs: 100, clock, onError: () => {} });
    const { events, chunk } = recorder();
    let busy = true;
    wait.hold(
      'k',
      chunk(1),
      () => Promise.resolve(undefined),
      () => busy,
    );
    await advance(clock, 400);
    expect(events).toEqual([]); // 4× waitMs: still held, the device's metadata is still being handled
    busy = false;
    await advance(clock, 250);
    expect(events).toEqual(['1 refused']);

    const stuck = new RouteWait<string>({ waitMs: 100, clock, onError: () => {} });
    const other = recorder();
    stuck.hold(
      'k',
      other.chunk(2),
      () => Promise.resolve(undefined),
      () => true,
    );
    await advance(clock, 550);
    expect(other.events).toEqual([]);
    await advance(clock, 300);
    expect(other.events).toEqual(['2 refused']); // never longer than 6× waitMs
  });

  it('keeps images apart: one found, the other still waiting', async () => {
    const clock = new VirtualClock();
    const wait = new RouteWait<string>({ waitMs: 1000, clock, onError: () => {} });
    const { events, chunk } = recorder();
    wait.hold('a', chunk(1), () => Promise.resolve('A'));
    wait.hold('b', chunk(2), () => Promise.resolve(undefined));
    await advance(clock, 20);
    expect(events).toEqual(['1→A']);
    expect(wait.isWaiting('b')).toBe(true);
    expect(wait.held).toBe(1);
  });

  it('a failing look-up is reported and the wait goes on', async () => {
    const clock = new VirtualClock();
    const errors: string[] = [];
    const wait = new RouteWait<string>({ waitMs: 1000, clock, onError: (key) => errors.push(key) });
    const { events, chunk } = recorder();
    let calls = 0;
    wait.hold('k', chunk(3), () =>
      ++calls === 1 ? Promise.reject(new Error('connection lost')) : Promise.resolve('R'),
    );
    await advance(clock, 50);
    expect(errors).toEqual(['k']);
    expect(events).toEqual(['3→R']);
  });

  it('stop() drops what is held (a crash loses it, as buffered chunks) and releases idle()', async () => {
    const clock = new VirtualClock();
    const wait = new RouteWait<string>({ waitMs: 1000, clock, onError: () => {} });
    const { events, chunk } = recorder();
    wait.hold('k', chunk(1), () => Promise.resolve('R'));
    const idle = wait.idle();
    wait.stop();
    await idle;
    await advance(clock, 50);
    expect(events).toEqual([]);
    expect(wait.held).toBe(0);
  });

  it('without a wait it is disabled (the pipeline refuses at once, as without a group)', () => {
    expect(new RouteWait<string>({ waitMs: 0, clock: new VirtualClock(), onError: () => {} }).enabled).toBe(false);
  });
});
