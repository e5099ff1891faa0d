// The device-spoofing scenario tells a broker that holds devices to their own topics from one that does not: it
// passes on the embedded broker (catalogue.test.ts) and in sim (catalogue-sim.test.ts); on the machine's
// Mosquitto, which lets any client publish anywhere, the rogue's image is stored as the victim's and the checker
// says so (I8: a row that matches no capture; its ACK_OK and bytes may break I3 and I7 too).
import { describe, expect, test } from 'vitest';
import { externalBrokerTarget, externalTarget } from '../test/databases.ts';
import { runScenario } from './run-scenario.ts';
import { loadCatalogue } from './spec.ts';

const broker = externalBrokerTarget();
const database = externalTarget();
describe.skipIf(broker.url === null || database.server === null)(
  `device-spoofing on a broker without per-device topics: ${broker.label} + ${database.label}`,
  () => {
    test("the rogue's image is stored as the victim's: I8 fails", { timeout: 120_000 }, async () => {
      const scenario = loadCatalogue().find((s) => s.name === 'device-spoofing');
      if (scenario === undefined) throw new Error('device-spoofing is missing from the catalogue');
      const { entry } = await runScenario(
        { ...scenario, expect: { fail: ['I8'], mayFail: ['I2', 'I3', 'I5', 'I7'] } },
        { brokerUrl: broker.url ?? undefined, databaseUrl: database.server?.url },
        { bundle: false },
      );
      const lines = entry.invariants.map((o) => `${o.id}: ${o.actual} ${o.summary}`);
      expect(entry.outcome, lines.join('\n')).toBe('met');
    });
  },
);
