// The webhook scenarios run live (embedded aedes, the test database, the example handler started by --webhook-cmd):
// the original two-writer race appears through the forwarder with the legacy handler (I1 fails, the race
// exercised), and not with the correct one under the forwarder's faults (pass). A handler that never answers in
// time leaves the race unexercised: the verdict is unknown, never a pass or a fail it did not earn.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { primaryTarget } from '../test/databases.ts';
import { tempDir } from '../test/temp-dir.ts';
import { runScenario } from './run-scenario.ts';
import { loadCatalogue, type Scenario } from './spec.ts';

const catalogue = loadCatalogue();
const reportDir = tempDir('camfleet-webhook-');
const named = (name: string): Scenario => {
  const s = catalogue.find((x) => x.name === name);
  if (s === undefined) throw new Error(`${name} is missing from the catalogue`);
  return s;
};
const databaseUrl = primaryTarget().server?.url;
const outcomes = (entry: { invariants: readonly { id: string; actual: string }[] }) =>
  Object.fromEntries(entry.invariants.map((o) => [o.id, o.actual]));

describe('webhook scenarios, live', () => {
  test('webhook-legacy-handler: the service and the legacy handler both insert every image (I1 fails, race exercised)', async () => {
    const scenario = named('webhook-legacy-handler');
    const { entry, result } = await runScenario(scenario, { brokerUrl: undefined, databaseUrl }, { reportDir });
    expect(entry.outcome, JSON.stringify(entry.invariants)).toBe('met');
    const got = outcomes(entry);
    expect(got.I1).toBe('fail');
    expect(got.E1).toBe('pass');
    const images = scenario.fleet.devices * scenario.fleet.images;
    // Images raced (each within the rendezvous' 5 s wait; one that waited longer is not counted, never invented),
    // and each race left one extra row.
    const races = result?.history.events.filter((e) => e.type === 'nemesis' && e.fault === 'webhook_race') ?? [];
    expect(races.length).toBeGreaterThan(0);
    expect(races.length).toBeLessThanOrEqual(images);
    const i1 = entry.invariants.find((o) => o.id === 'I1');
    const groups = Number(/(\d+) duplicate \(device_id, image_name\) groups/.exec(i1?.summary ?? '')?.[1]);
    expect(groups).toBeGreaterThanOrEqual(races.length);
    expect(result?.webhook).toMatchObject({ gaveUp: 0, refused: 0 });
  }, 90_000);

  test('webhook-correct-handler: under timeouts, 5xx and duplicates, no duplicate and nothing lost (pass)', async () => {
    const scenario = named('webhook-correct-handler');
    const { entry, result } = await runScenario(scenario, { brokerUrl: undefined, databaseUrl }, { reportDir });
    expect(entry.outcome, JSON.stringify(entry.invariants)).toBe('met');
    expect(entry.verdict).toBe('pass');
    // The faults did strike: attempts timed out and were retried, answers were replaced, messages duplicated.
    const stats = result?.webhook;
    expect(stats?.timedOut).toBeGreaterThan(0);
    expect(stats?.answered5xx).toBeGreaterThan(0);
    expect(stats?.copies).toBeGreaterThan(stats?.messages ?? Infinity);
    expect(stats?.retried).toBeGreaterThan(0);
    const attempts = result?.history.events.filter((e) => e.type === 'webhook_delivery') ?? [];
    expect(attempts.length).toBe(stats?.attempts);
  }, 90_000);

  describe('a handler that never answers in time', () => {
    const held: Server = createServer(() => {}); // takes every request, answers none
    afterAll(async () => {
      held.closeAllConnections();
      await new Promise((resolve) => held.close(resolve));
    });

    test('legacy-two-writers: the race is not exercised, so the verdict is unknown (I1 holds, E1 unknown)', async () => {
      await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(held.address() as AddressInfo).port}/`;
      const base = named('webhook-legacy-handler');
      const scenario = { ...base, fleet: { ...base.fleet, devices: 2, images: 1 } };
      const { entry } = await runScenario(
        scenario,
        { brokerUrl: undefined, databaseUrl, webhook: { url, command: undefined, timeoutMs: 200, retries: 0 } },
        { reportDir, bundle: false },
      );
      const got = outcomes(entry);
      expect(got.E1).toBe('unknown');
      expect(got.I1).toBe('pass'); // the handler wrote nothing: only the service's rows
      expect(entry.verdict).toBe('unknown');
    }, 90_000);
  });
});
