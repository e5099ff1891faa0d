// The library from its sources (lib/index.ts): each call as a user's code makes it, against the same runs the
// commands make — the options refused with the command's words, typed verdicts with their offending rows, the
// failure bundle and report files, the vitest helper's failure message. lib/pack.test.ts installs the built package.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../test/databases.ts';
import { tempDir } from '../test/temp-dir.ts';
import { check, explore, listScenarios, runScenario, simulate, UsageError } from './index.ts';
import { expectScenario, ScenarioNotMetError } from './vitest.ts';

const databaseUrl = primaryTarget().server?.url;
const small = { mode: 'sim', devices: 2, images: 1, imageKb: 8, faults: 'none', databaseUrl } as const;

describe('simulate()', () => {
  test('a passing sim run: every invariant, the table, stats; no bundle', async () => {
    const result = await simulate({ ...small, seed: 5 });
    expect(result.verdict).toBe('pass');
    expect(result.exitCode).toBe(0);
    expect(result.seed).toBe(5);
    expect(result.invariants.map((v) => v.id)).toEqual(['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9']);
    expect(result.table).toMatch(/I1 unique/);
    expect(result.stats.fleet.captured).toBe(2);
    expect(result.stats.imagesComplete).toBe(2);
    expect(result.bundleDir).toBeUndefined();
    expect(result.reproduceCommand).toContain('--seed 5');
    expect(result.events.length).toBeGreaterThan(0);
  });

  test('a failing run: offending rows, a bundle, the report files, exit code 1', async () => {
    const report = tempDir('camfleet-lib-report-');
    const result = await simulate({
      ...small,
      devices: 4,
      seed: 2,
      pipeline: 'legacy-insert',
      stage: 'base',
      doubleSendRate: 0.5,
      report,
    });
    expect(result.verdict).toBe('fail');
    expect(result.exitCode).toBe(1);
    const i1 = result.invariants.find((v) => v.id === 'I1');
    expect(i1?.verdict).toBe('fail');
    expect(i1?.offending.length).toBeGreaterThan(0);
    expect(result.bundleDir).toBeDefined();
    expect(existsSync(join(result.bundleDir ?? '', 'bundle.json'))).toBe(true);
    expect(result.replayCommand).toMatch(/--replay/);
    expect(readFileSync(result.report?.junitPath ?? '', 'utf8')).toMatch(/<failure/);
    // report.html's timeline names the devices whose rows I1 lists.
    expect(readFileSync(result.report?.htmlPath ?? '', 'utf8')).toMatch(/"failing":\{"[0-9A-F]{12}":\["I1"/);
  });

  test('what the command refuses is refused with its words, before anything starts', async () => {
    await expect(simulate({ devices: -1 })).rejects.toThrow(/--devices must be a positive number, got -1/);
    await expect(simulate({ devcies: 3 } as never)).rejects.toThrow(/simulate: unknown option "devcies"/);
    await expect(simulate({ json: true } as never)).rejects.toThrow(/option "json": the result is already data/);
    await expect(simulate({ mode: 'sim', pipeline: 'external' })).rejects.toBeInstanceOf(UsageError);
    await expect(simulate({ brokerUrl: 'notaurl' })).rejects.toThrow(/not a valid MQTT broker URL/);
  });
});

describe('runScenario() and the vitest helper', () => {
  test('a catalogue scenario by name, held to its expectation', async () => {
    expect(listScenarios().map((s) => s.name)).toContain('reboot-resume-exact');
    const result = await runScenario('reboot-resume-exact', { mode: 'sim', databaseUrl });
    expect(result.outcome).toBe('met');
    expect(result.verdict).toBe('fail'); // the legacy profile it names fails I4, as it must
    expect(result.invariants.find((o) => o.id === 'I4')?.outcome).toBe('met');
    expect(result.table).toMatch(/reboot-resume-exact: expected fail I4, verdict FAIL → MET/);
  });

  test('not met: expectScenario fails with the verdict table as its message', async () => {
    const error: unknown = await expectScenario('reboot-resume-exact', {
      mode: 'sim',
      databaseUrl,
      pipeline: 'fixed',
      report: tempDir('camfleet-lib-unmet-'), // its bundle goes there, not under .camfleet/
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioNotMetError);
    const message = (error as Error).message;
    expect(message).toMatch(/^scenario reboot-resume-exact: NOT MET/);
    expect(message).toMatch(/I4 progress-kept +\.+ expected fail +got PASS +UNMET/);
  });

  test('your own pipeline (externalCmd): the scenario must pass; here our pipeline run as an outside command', async () => {
    const result = await runScenario('dialect-mix', {
      externalCmd: 'node --import tsx harness/cli/pipeline.ts',
      fast: true,
      databaseUrl,
    });
    expect(result.entry.pipeline).toBe('external');
    expect(result.entry.expected).toBe('pass');
    expect(result.outcome, result.table).toBe('met');
  }, 90_000);

  test('an unknown scenario lists the catalogue; sim with externalCmd is refused', async () => {
    await expect(runScenario('no-such-scenario')).rejects.toThrow(
      /no scenario named "no-such-scenario"; .*broker-restart/,
    );
    await expect(runScenario('broker-restart', { mode: 'sim', externalCmd: 'true' })).rejects.toThrow(/live mode only/);
    await expect(runScenario('broker-restart', { mdoe: 'sim' } as never)).rejects.toThrow(/unknown option "mdoe"/);
    await expect(runScenario('broker-restart', { mqttUsername: 'u' })).rejects.toThrow(/for a broker of yours/);
  });
});

describe('explore() and check()', () => {
  test('explore finds, shrinks and writes a legacy bug that fails again from its file', async () => {
    const out = join(tempDir('camfleet-lib-explore-'), 'found.json');
    const outcome = await explore({
      pipeline: 'legacy-insert',
      runs: 10,
      seed: 1,
      jobs: 1,
      shrinkRuns: 30,
      out,
      databaseUrl,
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.counterexample?.failed).toContain('I1');
    expect(outcome.counterexample?.confirmed).toBe(true);
    expect(outcome.counterexample?.scenarioFile).toBe(out);
    expect(existsSync(out)).toBe(true);
    await expect(explore({ runs: 0 })).rejects.toThrow(/--runs must be a whole number from 1/);
  });

  test('check needs a server and a run that exists there', async () => {
    await expect(check({ runId: 'r1', databaseUrl: '' })).rejects.toThrow(
      /databaseUrl \(or DATABASE_URL\) is required/,
    );
    if (databaseUrl === undefined) return;
    await expect(check({ runId: 'nosuchrun', databaseUrl })).rejects.toThrow(/no run nosuchrun/);
  });
});
