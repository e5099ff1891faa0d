// `npm run simulate -- --mode sim` as a user runs it: the same summary and verdicts as a live run, from a run moved
// by the seeded scheduler; the same seed twice gives the same schedule; what sim cannot do yet is one clear line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';
import { tempDir } from '../../test/temp-dir.ts';

const server = primaryTarget().server;
const env = { DATABASE_URL: server?.url, MQTT_URL: undefined };

describe('npm run simulate -- --mode sim', () => {
  test('a passing run prints the live summary plus the schedule; the same seed gives the same digest', async () => {
    const args = ['--mode', 'sim', '--devices', '3', '--images', '2', '--image-kb', '8', '--seed', '5'];
    const first = await runCli('simulate.ts', args, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/mode=sim/);
    // The default mix, as live: device, network and server faults.
    expect(first.stdout).toMatch(
      /^faults: device\.rebootRate=0\.05 .*network\.duplicateRate=0\.002.* server\.pipelineRestartAt=40%/m,
    );
    expect(first.stdout).toMatch(/^replay: npm run simulate -- --seed 5 .* --mode sim$/m);
    expect(first.stdout).toMatch(/images captured \/ complete\s+\| 6 \/ 6 \(6 acknowledged\)/);
    expect(first.stdout).toMatch(/broker \/ database\s+\| sim \//);
    expect(first.stdout).toMatch(/I1 unique \.+ PASS/);
    expect(first.stdout).toContain('verdict: PASS');
    const digest = (out: string) => /digest ([0-9a-f]{16})/.exec(out)?.[1];
    expect(digest(first.stdout)).toBeDefined();
    const again = await runCli('simulate.ts', args, env);
    expect(digest(again.stdout)).toBe(digest(first.stdout));
  });

  test('--firmware: printed with the options, spelt back in the replay and the bundle; an unknown one exits 2', async () => {
    const report = tempDir('camfleet-sim-firmware-');
    const args = ['--mode', 'sim', '--devices', '1', '--image-kb', '20', '--seed', '3', '--faults', 'none'];
    const point = ['--fault-at', 'reboot:device=1,image=1,after-chunks=5', '--report', report];
    const r = await runCli('simulate.ts', [...args, '--firmware', 'fw-resend-new-bytes', ...point], env);
    expect(r.code, r.stderr).toBe(1); // the re-send's new bytes are caught
    expect(r.stdout).toMatch(/^options: .* pipeline=fixed firmware=fw-resend-new-bytes stage=resume mode=sim$/m);
    expect(r.stdout).toMatch(/^replay: npm run simulate -- --seed 3 .*--firmware fw-resend-new-bytes .*--mode sim$/m);
    expect(r.stdout).toMatch(/I3 integrity \.+ FAIL/);
    const bundle = JSON.parse(readFileSync(join(report, 'bundles', 'simulate-seed3', 'bundle.json'), 'utf8')) as {
      options: { firmware: string };
    };
    expect(bundle.options.firmware).toBe('fw-resend-new-bytes');
    const bad = await runCli('simulate.ts', ['--mode', 'sim', '--firmware', 'fw351'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/firmware.*Given: "fw351", Choices: "fw350", "fw-resend-new-bytes"/s);
  });

  test('what sim cannot do exits 2 with one line', async () => {
    const broker = await runCli('simulate.ts', ['--mode', 'sim', '--broker-url', 'mqtt://127.0.0.1:1883'], env);
    expect(broker.code).toBe(2);
    expect(broker.stderr).toContain('--broker-url is for live runs');
    const slow = await runCli('simulate.ts', ['--mode', 'sim', '--slow-subscriber', '--devices', '2'], env);
    expect(slow.code).toBe(2);
    expect(slow.stderr).toContain('network.slowSubscriber is live-only');
    const scale = await runCli('simulate.ts', ['--mode', 'sim', '--time-scale', '10'], env);
    expect(scale.code).toBe(2);
    expect(scale.stderr).toContain('--time-scale is for live runs');
  });
});
