// `npm run simulate -- --mode sim --seeds …` as a user runs it: the final line, the failing seeds with replay
// commands that fail the same way alone, --json, and the usage errors (exit 2).
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli } from '../../test/run-cli.ts';

const server = primaryTarget().server;
const env = { DATABASE_URL: server?.url, MQTT_URL: undefined };
const small = ['--mode', 'sim', '--devices', '3', '--images', '2', '--image-kb', '8'];
const legacy = [
  ...small,
  '--pipeline',
  'legacy-insert',
  '--stage',
  'base',
  '--faults',
  'none',
  '--double-send-rate',
  '0.5',
];

describe('npm run simulate -- --mode sim --seeds', () => {
  test('a passing sweep prints only its final line and exits 0', async () => {
    const run = await runCli('simulate.ts', [...small, '--seeds', '1..3'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^3 runs, 0 failed, \d+\.\d runs\/s\n$/);
    // Not a terminal: no progress bar on stderr.
    expect(run.stderr).not.toMatch(/seeds \|/);
  });

  test('a failing profile lists each failing seed with its replay, which fails the same way alone', async () => {
    const run = await runCli('simulate.ts', [...legacy, '--seeds', '4,7'], env);
    expect(run.code, run.stderr).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^2 runs, 2 failed, \d+\.\d runs\/s$/);
    const failing = lines.filter((l) => l.startsWith('seed '));
    expect(failing).toHaveLength(2);
    expect(failing[0]).toMatch(/^seed 4: FAIL I1 unique \(.+\) {2}replay: npm run simulate -- --seed 4 .*--mode sim$/);
    expect(failing[1]).toMatch(/^seed 7: FAIL I1 unique /);
    // The replay command, run alone: the same failing invariant, and the same schedule digest as in --json below.
    const replay = /replay: npm run simulate -- (.*)$/.exec(failing[0] ?? '')?.[1]?.split(' ') ?? [];
    const alone = await runCli('simulate.ts', replay, env);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toMatch(/I1 unique \.+ FAIL/);
    expect(alone.stdout).toContain(`reproduce: npm run simulate -- ${replay.join(' ')}`);
    const json = await runCli('simulate.ts', [...legacy, '--seeds', '4', '--json'], env);
    expect(json.code).toBe(1);
    const summary = JSON.parse(json.stdout) as {
      runs: number;
      failed: number;
      unknown: number;
      runsPerS: number;
      failures: { seed: number; verdict: string; invariants: string[]; replay: string }[];
    };
    expect(summary).toMatchObject({ runs: 1, failed: 1, unknown: 0 });
    expect(summary.failures[0]).toMatchObject({ seed: 4, verdict: 'fail' });
    expect(summary.failures[0]?.invariants).toContain('I1');
    expect(summary.failures[0]?.replay).toBe(`npm run simulate -- ${replay.join(' ')}`);
  });

  test('none failed but some unknown (a time budget too short to finish): each listed, exit 3', async () => {
    const run = await runCli('simulate.ts', [...small, '--seeds', '1,2', '--time-budget-s', '0.001'], env);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toMatch(
      /^seed 1: UNKNOWN I5 liveness \(.+\) {2}replay: .* --time-budget-s 0\.001 .*--mode sim$/m,
    );
    expect(run.stdout).toMatch(/^seed 2: UNKNOWN /m);
    expect(run.stdout).toMatch(/\n2 runs, 0 failed, \d+\.\d runs\/s\n$/);
  });

  test('usage errors exit 2 with one line', async () => {
    const cases: [string[], string][] = [
      [['--seeds', '1..3'], '--seeds sweeps in sim mode only'],
      [[...small, '--seeds', '1..3', '--seed', '4'], '--seeds and --seed do not go together'],
      [[...small, '--seeds', '3..1'], '--seeds: range 3..1 runs backwards'],
      [[...small, '--seeds', 'x'], '--seeds: "x" is not a whole number'],
      [[...small, '--seeds', '1,2', '--history', '/tmp/h.ndjson'], '--history is one run'],
      [[...small, '--seeds', '1,2', '--jobs', '0'], '--jobs must be a whole number from 1 to 16, got 0'],
      [[...small, '--seeds', '1,2', '--jobs', '1.5'], '--jobs must be a whole number from 1 to 16, got 1.5'],
      [[...small, '--jobs', '2'], '--jobs goes with --seeds'],
    ];
    for (const [args, message] of cases) {
      const run = await runCli('simulate.ts', args, env);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(message);
    }
  });
});
