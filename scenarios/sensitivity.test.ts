// The sensitivity table's cases, markdown and README splice (the runs themselves are the CLI's).
import { describe, expect, test } from 'vitest';
import { invariantIds } from '../harness/checker/index.ts';
import { entryFromRun } from '../harness/report/index.ts';
import { liveRunDefaults } from '../harness/run/run-options.ts';
import {
  legacyProfiles,
  readmeEnd,
  readmeStart,
  replaceReadmeSection,
  sensitivityCases,
  sensitivityMarkdown,
  sensitivityOutcome,
  sensitivityRows,
} from './sensitivity.ts';
import { loadCatalogue } from './spec.ts';
import { scenarioRunOptions } from './to-run-options.ts';

const catalogue = loadCatalogue();

describe('sensitivity', () => {
  const cases = sensitivityCases(catalogue);

  test('every legacy profile × the scenarios naming it, then fixed × every scenario expected to pass', () => {
    for (const profile of legacyProfiles)
      expect(cases.filter((c) => c.profile === profile).map((c) => c.scenario.name)).toEqual(
        catalogue.filter((s) => s.pipeline === profile).map((s) => s.name),
      );
    const fixed = cases.filter((c) => c.profile === 'fixed');
    expect(fixed).toHaveLength(catalogue.length);
    expect(fixed.every((c) => c.scenario.pipeline === 'fixed' && c.scenario.expect === 'pass')).toBe(true);
    // a firmware bug's scenario is run with the faithful firmware: the table holds pipelines
    expect(fixed.filter((c) => c.scenario.firmware !== undefined)).toEqual([]);
    expect(catalogue.some((s) => s.firmware !== undefined)).toBe(true);
  });

  test('a table of caught profiles and fixed passing everything is met', () => {
    // Pretend each run did exactly what its case expects.
    const entries = cases.map((c) => {
      const failing = c.scenario.expect === 'pass' ? [] : c.scenario.expect.fail;
      const options = scenarioRunOptions(c.scenario, { brokerUrl: undefined, databaseUrl: undefined });
      return entryFromRun(
        { name: c.scenario.name, options: { ...options, ...liveRunDefaults, seed: 1 }, expected: c.scenario.expect },
        {
          verdict: failing.length ? 'fail' : 'pass',
          wallMs: 1,
          aborted: false,
          verdicts: invariantIds.map((id) => ({
            id,
            name: id,
            description: '',
            verdict: failing.includes(id) ? 'fail' : 'pass',
            summary: '',
            offending: [],
            offendingCount: 0,
          })),
        },
      );
    });
    const rows = sensitivityRows(cases, entries);
    expect(sensitivityOutcome(rows)).toBe('met');
    const table = sensitivityMarkdown(rows);
    expect(table).toMatch(
      /^\| legacy-insert \| legacy-insert-double-send \| fail I1 \(I3, I5, I6 may fail\) \| I1 fail \| ✓ \|$/m,
    );
    expect(table).toContain(`| fixed | all ${catalogue.length} scenarios | pass | none | ✓ |`);
    // Without a catching scenario for a profile the table is not met.
    const uncaught = rows.map((r) => (r.profile === 'legacy-ttl' ? { ...r, entries: [] } : r));
    expect(sensitivityOutcome(uncaught)).toBe('unmet');
    expect(sensitivityMarkdown(uncaught)).toContain('| legacy-ttl | (no scenario names it) | — | — | ✗ |');
  });

  test('the README section between the markers is replaced; missing markers are an error', () => {
    const readme = `# x\n\n${readmeStart}\nold\n${readmeEnd}\n\nafter\n`;
    expect(replaceReadmeSection(readme, '| t |', 'note')).toBe(
      `# x\n\n${readmeStart}\nnote\n\n| t |\n${readmeEnd}\n\nafter\n`,
    );
    expect(() => replaceReadmeSection('# x\n', '| t |', 'note')).toThrow(/no <!-- sensitivity:start -->/);
  });
});
