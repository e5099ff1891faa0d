// `npm run scenario -- run … --mode sim` as a user runs it: a scenario through the seeded scheduler; one sim cannot
// run yet is refused (exit 2) and says why; one its spec keeps live-only is skipped by --all ("not run in sim")
// and is a usage error when named; the table shows each.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';
import { tempDir } from '../../test/temp-dir.ts';
import { catalogueDir } from '../../scenarios/spec.ts';

const env = { DATABASE_URL: primaryTarget().server?.url, MQTT_URL: undefined };
const liveOnlyBecause = "a real broker's queue overflowing under a slow subscriber (the sim router is no such broker)";

/** A catalogue of three: one sim runs (a legacy bug), one it refuses today, one live-only by its spec. */
function smallCatalogue(): string {
  const dir = tempDir('camfleet-scenario-sim-');
  for (const name of ['legacy-insert-double-send'])
    copyFileSync(join(catalogueDir, `${name}.json`), join(dir, `${name}.json`));
  // Not marked live-only: sim refuses it when it runs (a spec should say so with `modes`; this one forgot).
  writeFileSync(
    join(dir, 'unmarked-slow-subscriber.json'),
    JSON.stringify({
      name: 'unmarked-slow-subscriber',
      purpose: 'a slow pipeline subscriber, its spec not marked live-only',
      fleet: { devices: 3, images: 1 },
      pipeline: 'fixed',
      stage: 'resume',
      faults: { mix: 'none', network: { slowSubscriber: true } },
      timeBudgetS: 30,
      expect: 'pass',
    }),
  );
  writeFileSync(
    join(dir, 'slow-subscriber-overflow.json'),
    JSON.stringify({
      name: 'slow-subscriber-overflow',
      purpose: 'a slow pipeline subscriber overflows the broker queue',
      fleet: { devices: 3, images: 1 },
      pipeline: 'fixed',
      stage: 'resume',
      faults: { mix: 'none', network: { slowSubscriber: true } },
      timeBudgetS: 30,
      expect: 'pass',
      modes: ['live'],
      liveOnlyBecause,
    }),
  );
  return dir;
}

describe('npm run scenario -- run --mode sim', () => {
  const catalogue = smallCatalogue();
  const report = tempDir('camfleet-scenario-sim-report-');

  test('--all: what sim runs is judged, a refusal and a live-only spec each say why in the table; exit 2', async () => {
    const r = await runCli(
      'scenario.ts',
      ['run', '--all', '--mode', 'sim', '--catalogue', catalogue, '--report', report],
      env,
    );
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^seed: 1 .* mode: sim$/m);
    expect(r.stdout).toContain('legacy-insert-double-send: expected fail I1 (I3, I5, I6 may fail), verdict FAIL → MET');
    expect(r.stdout).toMatch(/^legacy-insert-double-send\s+\| fail I1 .*\| fail\s+\| met$/m);
    expect(r.stdout).toMatch(
      /^unmarked-slow-subscriber\s+\| pass\s+\| refused by sim: .*network\.slowSubscriber is live-only.*\| -$/m,
    );
    expect(r.stdout).toContain(`| not run in sim: ${liveOnlyBecause}`);
    expect(r.stdout).toContain('1 met, 0 not met, 0 unknown, 1 refused by sim, 1 not run in sim');
  }, 90_000);

  test('one scenario sim runs: exit 0; one it refuses: exit 2 with the reason; a live-only one named: exit 2', async () => {
    const runs = await runCli(
      'scenario.ts',
      ['run', 'legacy-insert-double-send', '--mode', 'sim', '--catalogue', catalogue, '--report', report],
      env,
    );
    expect(runs.code, runs.stdout + runs.stderr).toBe(0);
    expect(runs.stdout).toContain('→ MET');
    const refused = await runCli(
      'scenario.ts',
      ['run', 'unmarked-slow-subscriber', '--mode', 'sim', '--catalogue', catalogue],
      env,
    );
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('unmarked-slow-subscriber: refused by sim:');
    const named = await runCli(
      'scenario.ts',
      ['run', 'slow-subscriber-overflow', '--mode', 'sim', '--catalogue', catalogue],
      env,
    );
    expect(named.code).toBe(2);
    expect(named.stderr.trim()).toBe(
      `error: scenario "slow-subscriber-overflow" does not run in sim: ${liveOnlyBecause}`,
    );
    const broker = await runCli(
      'scenario.ts',
      ['run', '--all', '--mode', 'sim', '--broker-url', 'mqtt://127.0.0.1:1883', '--catalogue', catalogue],
      env,
    );
    expect(broker.code).toBe(2);
    expect(broker.stderr).toContain('--broker-url is for live runs');
  }, 90_000);
});
