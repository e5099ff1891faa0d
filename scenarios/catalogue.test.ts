// The regression suite: every catalogue scenario runs live and must meet its expectation. A legacy profile that
// stops failing is a test failure, as is a fault scenario that `fixed` does not pass.
// A live run cannot fix interleavings, so whether a fault lands mid-transfer is partly timing: a scenario that
// expects a legacy bug to be caught gets up to three seeds to catch it (runScenarioUntilMet); one that expects
// `pass` gets exactly one — the reference pipeline must survive every seed.
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../test/databases.ts';
import { runScenarioUntilMet, seedsToCatchBug } from './run-scenario.ts';
import { describeExpectation, loadCatalogue } from './spec.ts';
import { tempDir } from '../test/temp-dir.ts';

const catalogue = loadCatalogue();
const reportDir = tempDir('camfleet-catalogue-');

describe(`scenario catalogue on aedes + ${primaryTarget().label}`, () => {
  for (const scenario of catalogue) {
    test(
      `${scenario.name}: ${describeExpectation(scenario.expect)}`,
      async () => {
        const run = await runScenarioUntilMet(
          scenario,
          { brokerUrl: undefined, databaseUrl: primaryTarget().server?.url },
          { reportDir },
        );
        const { entry } = run;
        const lines = [
          `${scenario.name}: expected ${describeExpectation(scenario.expect)}, verdict ${entry.verdict}`,
          ...(entry.error !== undefined ? [`not run: ${entry.error}`] : []),
          ...entry.invariants.map(
            (o) => `${o.id} ${o.name}: expected ${o.expected}, got ${o.actual} (${o.outcome}) ${o.summary}`,
          ),
          ...(entry.replay ? [`replay: ${entry.replay}`] : []),
        ];
        expect(entry.outcome, lines.join('\n')).toBe('met');
      },
      (scenario.expect === 'pass' ? 1 : seedsToCatchBug) * scenario.timeBudgetS * 1000 + 60_000,
    );
  }
});
