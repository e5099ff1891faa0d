// `npm run explore` as a user runs it: nothing found (exit 0, the summary line), a counterexample (exit 1, the
// counterexample line, the scenario file written and the commands that run it, which fails the same way), and usage
// errors (exit 2, one line).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';
import { tempDir } from '../../test/temp-dir.ts';
import { loadScenario } from '../../scenarios/spec.ts';

const server = primaryTarget().server;
const env = { DATABASE_URL: server?.url, MQTT_URL: undefined };

describe('npm run explore', () => {
  test('nothing found: one summary line, exit 0', async () => {
    const run = await runCli('explore.ts', ['--faults', 'none', '--runs', '3', '--seed', '5', '--jobs', '2'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^explore: pipeline fixed, firmware fw350, stage resume, faults none, 3 runs, seed 5/);
    expect(run.stdout).toMatch(/\n3 runs, 0 counterexamples, \d+\.\d runs\/s\n$/);
  });

  test('a counterexample: shrunk, written as a scenario file that fails the same way; exit 1', async () => {
    const out = join(tempDir('camfleet-explore-cli-'), 'two-writers.json');
    const args = ['--pipeline', 'legacy-two-writers', '--faults', 'none', '--runs', '10', '--seed', '3', '--out', out];
    const run = await runCli('explore.ts', args, env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/\ncounterexample: 1 devices, \d+ images, 0 faults, invariants I1[,\w]*\n/);
    expect(run.stdout).toContain(`npm run scenario -- run --file ${out} --mode sim`);
    expect(run.stdout).toMatch(/npm run simulate -- --replay \S+/);
    expect(existsSync(out)).toBe(true);
    const scenario = loadScenario(out, { requireFileName: false });
    expect(scenario.name).toBe('two-writers');
    expect(scenario.pipeline).toBe('legacy-two-writers');
    expect(scenario.stage).toBe('base');
    expect(scenario.expect).toMatchObject({ fail: expect.arrayContaining(['I1']) as unknown });
    const again = await runCli('scenario.ts', ['run', '--file', out, '--mode', 'sim'], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/two-writers: expected fail I1.*→ MET/);
  });

  test.each([
    [['--runs', '0'], /--runs must be a whole number from 1/],
    [['--pipeline', 'nope'], /Invalid values/],
    [['--out', 'found.txt'], /--out found\.txt: a scenario file ends in \.json/],
    [['--jobs', '99'], /--jobs must be a whole number from 1 to 16/],
  ])('usage error %j: one line, exit 2', async (args, message) => {
    const run = await runCli('explore.ts', args, env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
