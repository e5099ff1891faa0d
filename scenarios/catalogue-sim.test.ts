// The catalogue in sim mode (issue 8 "Tests and targets": in CI the catalogue runs in sim mode on one seed each; the
// legacy bugs are caught every time). Every scenario sim can run must meet its expectation on its own seed — a sim
// run is a function of its seed, so one seed is a fixed, repeatable run, not a sample. A scenario sim refuses today
// (faults it cannot inject yet) is shown skipped with sim's reason, which must be one of the kinds sim is known not
// to support yet: a new kind of refusal fails here rather than hiding. A scenario its spec keeps live-only is shown
// skipped with the spec's reason.
import { describe, expect, test } from 'vitest';
import { describeExpectation } from '../harness/checker/expectation.ts';
import { primaryTarget } from '../test/databases.ts';
import { tempDir } from '../test/temp-dir.ts';
import { runScenario } from './run-scenario.ts';
import { loadCatalogue, regressionsDir, type Scenario } from './spec.ts';
import { defaultScenarioSeed } from './to-run-options.ts';

/** What sim refuses today (sim-run.ts, run-world.ts), each on its way into sim. */
const notYetInSim: readonly RegExp[] = [];

/**
 * Scenarios sim runs but whose expectation it does not meet yet, with why: each is a sim-fidelity gap to close, not
 * a verdict to accept. Their test holds the gap (the expectation not met), so closing it turns the test red until
 * its entry is removed here.
 */
const knownSimGaps: Readonly<Record<string, string>> = {};

const catalogue = loadCatalogue();
const reportDir = tempDir('camfleet-catalogue-sim-');

const suites: readonly { readonly title: string; readonly scenarios: readonly Scenario[] }[] = [
  { title: `scenario catalogue in sim mode on ${primaryTarget().label}, one seed each`, scenarios: catalogue },
  // What explore found while camfleet was built (scenarios/regressions/): each must fail (or, cured, pass) again.
  { title: `explore's regressions in sim mode on ${primaryTarget().label}`, scenarios: loadCatalogue(regressionsDir) },
];

for (const { title: suiteTitle, scenarios } of suites)
  describe(suiteTitle, () => {
    for (const scenario of scenarios) {
      const seed = scenario.seed ?? defaultScenarioSeed;
      const gap = knownSimGaps[scenario.name];
      const title = `${scenario.name} (seed ${seed}): ${describeExpectation(scenario.expect)}`;
      test(
        gap === undefined ? title : `${title} — known sim gap, not met yet: ${gap}`,
        async (ctx) => {
          const run = await runScenario(
            scenario,
            { brokerUrl: undefined, databaseUrl: primaryTarget().server?.url, seed, mode: 'sim' },
            { reportDir },
          );
          if (run.notRun?.kind === 'not-in-mode') ctx.skip(`live only: ${run.notRun.reason}`);
          if (run.notRun?.kind === 'refused-by-sim') {
            const { reason } = run.notRun;
            expect(
              notYetInSim.some((known) => known.test(reason)),
              `refused by sim for a reason not known to be on its way: ${reason}`,
            ).toBe(true);
            ctx.skip(`refused by sim: ${reason}`);
          }
          const { entry } = run;
          if (gap !== undefined) {
            // Held the other way round, so that closing the gap is noticed: the entry must then leave knownSimGaps.
            expect(
              entry.outcome,
              `${scenario.name} now meets its expectation in sim: remove it from knownSimGaps`,
            ).not.toBe('met');
            await ctx.annotate(`known sim gap: ${gap}`);
            return;
          }
          const lines = [
            `${scenario.name} seed ${seed} (sim): expected ${describeExpectation(scenario.expect)}, verdict ${entry.verdict}`,
            ...(entry.error !== undefined ? [`not run: ${entry.error}`] : []),
            ...entry.invariants.map(
              (o) => `${o.id} ${o.name}: expected ${o.expected}, got ${o.actual} (${o.outcome}) ${o.summary}`,
            ),
            ...(entry.replay ? [`replay: ${entry.replay}`] : []),
          ];
          expect(entry.outcome, lines.join('\n')).toBe('met');
        },
        60_000,
      );
    }
  });
