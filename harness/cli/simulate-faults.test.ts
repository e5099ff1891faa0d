// `npm run simulate` and its faults: on by default, fired by progress, and a fault that never fired makes the
// verdict unknown (exit 3), never pass.
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';

const env = () => {
  const server = primaryTarget().server!;
  return server.kind === 'external' ? { DATABASE_URL: server.url } : {};
};

interface Summary {
  verdict: string;
  invariants: { id: string; verdict: string; summary: string }[];
  faultsInjected: Record<string, number>;
}

describe('npm run simulate: faults', () => {
  test('the default mix is on without a flag, and its pipeline restart fires by progress', async () => {
    const r = await runCli('simulate.ts', ['--devices', '6', '--image-kb', '20', '--seed', '3', '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^faults: .*device\.rebootRate=0\.05.*server\.pipelineRestartAt=40%/m);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.faultsInjected.pipeline_restart).toBe(1);
    expect(summary.invariants.find((i) => i.id === 'E1')).toMatchObject({ verdict: 'pass' });
  });

  test('a scheduled fault whose trigger never comes: E1 unknown, verdict unknown, exit 3', async () => {
    const r = await runCli(
      'simulate.ts',
      ['--devices', '2', '--image-kb', '8', '--seed', '4', '--faults', 'none', '--pipeline-restart-at', '50-in-flight'],
      env(),
    );
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/E1 exercised \.+ UNKNOWN .*pipeline_restart at 50-in-flight never fired/);
    expect(r.stdout).toContain('verdict: UNKNOWN');
  });

  test.each([
    [
      ['--fault-at', 'reboot:device=2,image=1'],
      '--fault-at "reboot:device=2,image=1": reboot: after-chunks= is missing (syntax: reboot:device=D',
    ],
    [
      [
        '--devices',
        '3',
        '--fault-at',
        'counter-reset:device=1,wake=2',
        '--fault-at',
        'reboot:device=9,image=1,after-chunks=5',
      ],
      '--fault-at reboot:device=9,image=1,after-chunks=5: can never strike: device 9 of a 3-device fleet',
    ],
    [
      ['--broker-url', 'mqtt://127.0.0.1:1883', '--fault-at', 'drop-puback:device=1,image=1,chunk=3'],
      '--fault-at: fault point drop-puback:device=1,image=1,chunk=3: needs the embedded broker or --mode sim',
    ],
    [
      ['--migrate-at', '40%', '--fault-at', 'migrate:in-flight=2'],
      '--fault-at: fault point migrate:in-flight=2: the plan already has a migration',
    ],
  ])('--fault-at %j is a usage error before anything starts, one line naming the item', async (args, message) => {
    const r = await runCli('simulate.ts', args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).not.toContain('seed:');
  });

  test('a trigger it cannot read is a usage error naming the flag and the syntax', async () => {
    const r = await runCli('simulate.ts', ['--pipeline-restart-at', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--pipeline-restart-at: not a fault trigger: "soon" (use "40%"');
  });
});
