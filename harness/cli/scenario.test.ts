// `npm run scenario` as a user runs it: list, usage errors, help on every command.
import { describe, expect, test } from 'vitest';
import { runCli } from '../../test/run-cli.ts';
import { loadCatalogue } from '../../scenarios/spec.ts';

describe('npm run scenario', () => {
  test('list: every scenario with its pipeline, expected verdict and purpose; exit 0', async () => {
    const r = await runCli('scenario.ts', ['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^scenario\s+\| pipeline\s+\| expected\s+\| purpose$/);
    for (const s of loadCatalogue())
      expect(r.stdout).toMatch(new RegExp(`^${s.name}\\s+\\| ${s.pipeline}\\s+\\|`, 'm'));
    expect(r.stdout).toMatch(/^legacy-insert-double-send\s+\| legacy-insert\s+\| fail I1/m);
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
});
