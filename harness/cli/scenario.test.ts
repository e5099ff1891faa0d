// `npm run scenario` as a user runs it: list, usage errors, help on every command.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';
import { tempDir } from '../../test/temp-dir.ts';
import { catalogueDir, loadCatalogue } from '../../scenarios/spec.ts';

describe('npm run scenario', () => {
  test('list: every scenario with its pipeline and firmware, expected verdict and purpose; exit 0', async () => {
    const r = await runCli('scenario.ts', ['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^scenario\s+\| pipeline\s+\| firmware\s+\| expected\s+\| purpose$/);
    for (const s of loadCatalogue())
      expect(r.stdout).toMatch(
        new RegExp(`^${s.name}\\s+\\| ${s.pipeline}\\s+\\| ${s.firmware ?? 'fw350'}\\s+\\|`, 'm'),
      );
    expect(r.stdout).toMatch(/^legacy-insert-double-send\s+\| legacy-insert\s+\| fw350\s+\| fail I1/m);
    expect(r.stdout).toMatch(/^fw-one-based-ids\s+\| fixed\s+\| fw-one-based-ids\s+\| fail I5/m);
  });

  test('an unknown scenario name exits 2 and lists the names', async () => {
    const r = await runCli('scenario.ts', ['run', 'no-such-scenario']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: no scenario named "no-such-scenario"; the catalogue has:');
    expect(r.stderr).toMatch(/^ {2}firmware-double-send$/m);
  });

  test('usage errors exit 2 with one line; help on every command', async () => {
    const none = await runCli('scenario.ts', ['run']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error: name a scenario (see `list`) or give --all');
    const both = await runCli('scenario.ts', ['run', 'chaos', '--history', 'h.ndjson', '--all']);
    expect(both.code).toBe(2);
    const bare = await runCli('scenario.ts', []);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('name a command: list, run or sensitivity');
    for (const command of ['list', 'run', 'sensitivity']) {
      const help = await runCli('scenario.ts', [command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toContain(`npm run scenario -- ${command}`);
    }
  });

  // five-days-offline-drain exercises what it names on any fleet (a Wi-Fi outage rate of 1): a shrunk (--fast)
  // run of it meets its expectation, where a rate-drawn fault might not happen among four devices (E1 unknown).
  describe('a catalogue with one invalid file', () => {
    const dir = tempDir('camfleet-catalogue-');
    copyFileSync(join(catalogueDir, 'five-days-offline-drain.json'), join(dir, 'five-days-offline-drain.json'));
    writeFileSync(join(dir, 'broken.json'), '{ "name": "broken", ');
    const server = primaryTarget().server!;
    const env = server.kind === 'external' ? { DATABASE_URL: server.url } : {};

    test('list shows the valid scenarios and reports the invalid file (exit 2)', async () => {
      const r = await runCli('scenario.ts', ['list', '--catalogue', dir]);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/^five-days-offline-drain\s+\| fixed\s+\| fw350\s+\| pass/m);
      expect(r.stderr.trim()).toMatch(/^error: invalid scenario file, skipped: .*broken\.json: not valid JSON/);
      const named = await runCli('scenario.ts', ['run', 'broken', '--catalogue', dir]);
      expect(named.code).toBe(2);
      expect(named.stderr).toMatch(/error: scenario "broken" does not load: .*broken\.json: not valid JSON/);
    });

    test('run --all runs the valid ones and still exits 2 for the invalid file', async () => {
      const r = await runCli('scenario.ts', ['run', '--all', '--fast', '--catalogue', dir], env);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toMatch(/five-days-offline-drain: expected pass, verdict PASS → MET/);
      expect(r.stderr).toMatch(/broken\.json: not valid JSON/);
    });
  });

  test('run --file runs a spec from anywhere, under any file name', async () => {
    const dir = tempDir('camfleet-spec-');
    const file = join(dir, 'my copy.json');
    copyFileSync(join(catalogueDir, 'five-days-offline-drain.json'), file);
    const server = primaryTarget().server!;
    const env = server.kind === 'external' ? { DATABASE_URL: server.url } : {};
    const r = await runCli('scenario.ts', ['run', '--file', file, '--fast', '--report', join(dir, 'report')], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('== five-days-offline-drain:');
    expect(r.stdout).toMatch(/five-days-offline-drain: expected pass, verdict PASS → MET/);
    const both = await runCli('scenario.ts', ['run', 'chaos', '--file', file]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give scenario names, --all or --file, one of them');
  });

  test('run --external-cmd: a scenario against your own pipeline must pass; in sim it is refused', async () => {
    const server = primaryTarget().server!;
    const env = server.kind === 'external' ? { DATABASE_URL: server.url } : {};
    // Our reference pipeline, started as an outside command, stands in for the user's own service. Without
    // --migrate it refuses a base-stage database and exits: said at once, not after the minute's wait.
    const unmigrated = 'node --import tsx harness/cli/pipeline.ts';
    const early = await runCli(
      'scenario.ts',
      ['run', 'legacy-insert-double-send', '--fast', '--external-cmd', unmigrated],
      env,
    );
    expect(early.code, early.stdout + early.stderr).toBe(2);
    expect(early.stdout).toMatch(/the command exited \(code 2\) before it subscribed to the device data topics/);
    const ours = 'node --import tsx harness/cli/pipeline.ts --migrate';
    const r = await runCli('scenario.ts', ['run', 'dialect-mix', '--fast', '--external-cmd', ours], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('pipeline: external');
    expect(r.stdout).toContain('expected: pass (your pipeline)');
    expect(r.stdout).toMatch(/dialect-mix: expected pass, verdict PASS → MET/);
    const sim = await runCli('scenario.ts', ['run', 'chaos', '--mode', 'sim', '--external-cmd', ours]);
    expect(sim.code).toBe(2);
    expect(sim.stderr).toContain('--mode sim cannot run an external pipeline');
  });
});
