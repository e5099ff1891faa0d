// `npm run simulate -- --replay B` of a sim bundle as a user runs it (issue 8 "Commands"): the bundle records the
// mode, the schedule digest and the history's sha256; the replay runs in sim without `--mode sim`, says what it
// checked, and a bundle whose run does not come back byte for byte (here: tampered with) exits 4 naming what differs.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { runCli, type CliRun } from '../../test/run-cli.ts';
import { tempDir } from '../../test/temp-dir.ts';

const server = primaryTarget().server;
const env = { DATABASE_URL: server?.url, MQTT_URL: undefined };
const seed = 4;
const failingSim = [
  '--pipeline',
  'legacy-insert',
  '--stage',
  'base',
  '--faults',
  'none',
  '--double-send-rate',
  '0.5',
  '--devices',
  '3',
  '--images',
  '2',
  '--image-kb',
  '10',
  '--mode',
  'sim',
  '--seed',
  String(seed),
];

interface SimBundleJson {
  format: string;
  mode: string;
  sim: { scheduleDigest: string; historySha256: string; historyFileSha256: string };
  verdicts: { id: string; verdict: string }[];
}

const dir = tempDir('camfleet-replay-');
/** The first run's bundle: every test replays a copy of it. */
const bundle = join(dir, 'first', 'bundles', `simulate-seed${seed}`);
let first: CliRun;

const replay = (bundlePath: string, name: string, extra: readonly string[] = []) =>
  runCli('simulate.ts', ['--replay', bundlePath, '--report', join(dir, name), ...extra], env);

/** A copy of the first bundle, changed by `edit`, to replay without touching the original. */
function tampered(name: string, edit: (copy: string) => void): string {
  const copy = join(dir, name);
  cpSync(bundle, copy, { recursive: true });
  edit(copy);
  return copy;
}

describe('npm run simulate -- --replay of a sim bundle', () => {
  beforeAll(async () => {
    first = await runCli('simulate.ts', [...failingSim, '--report', join(dir, 'first')], env);
  }, 60_000);

  test('a failing sim run writes a bundle that records its mode, schedule digest and history sha256', () => {
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toContain(`failure bundle: ${bundle}`);
    const file = JSON.parse(readFileSync(join(bundle, 'bundle.json'), 'utf8')) as SimBundleJson;
    expect(file.format).toBe('camfleet-bundle/2');
    expect(file.mode).toBe('sim');
    expect(file.sim.scheduleDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(first.stdout).toContain(`digest ${file.sim.scheduleDigest.slice(0, 16)}`);
    expect(file.verdicts.filter((v) => v.verdict === 'fail').map((v) => v.id)).toContain('I1');
    // The bundle's replay command needs no --mode: the bundle says it.
    expect(first.stdout).toMatch(/^replay: npm run simulate -- --replay \S+$/m);
  });

  test('its replay runs in sim without --mode sim, says it reproduced exactly, and exits 1 (the verdict)', async () => {
    const run = await replay(bundle, 'replayed');
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/mode=sim/);
    expect(run.stdout).toMatch(/^reproduce: npm run simulate -- --seed 4 .* --mode sim$/m);
    expect(run.stdout).toMatch(
      /^replay check: same failing invariants \(I1[^)]*\), same schedule digest \([0-9a-f]{12}…\), same history \(sha256 [0-9a-f]{12}…\) — reproduced exactly$/m,
    );
    // Nothing new to keep: the replay points at the bundle it reproduced.
    expect(run.stdout).toContain(`failure bundle: ${bundle}\n`);
  }, 60_000);

  test('a bundle whose history.ndjson was edited: the replay names the file that changed and exits 4', async () => {
    const copy = tampered('edited-history', (path) => {
      const history = join(path, 'history.ndjson');
      writeFileSync(history, readFileSync(history, 'utf8').replace('"seq":3,', '"seq":3, '));
    });
    const run = await replay(copy, 'replay-edited-history');
    expect(run.code, run.stdout + run.stderr).toBe(4);
    expect(run.stdout).toMatch(
      /^replay check: NOT reproduced — the bundle's history\.ndjson \(sha256 [0-9a-f]{12}…\) is not the one bundle\.json records .*: changed after it was written; same failing invariants/m,
    );
  }, 60_000);

  test('a bundle whose schedule digest or history sha256 was changed: the replay says which differs, exits 4', async () => {
    const copy = tampered('edited-digests', (path) => {
      const file = JSON.parse(readFileSync(join(path, 'bundle.json'), 'utf8')) as SimBundleJson;
      file.sim.scheduleDigest = '0'.repeat(64);
      file.sim.historySha256 = 'f'.repeat(64);
      file.sim.historyFileSha256 = 'e'.repeat(64);
      writeFileSync(join(path, 'bundle.json'), JSON.stringify(file));
    });
    const run = await replay(copy, 'replay-edited-digests', ['--json']);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    const summary = JSON.parse(run.stdout) as { replayCheck: { status: string; differences: string[] } };
    expect(summary.replayCheck.status).toBe('diverged');
    expect(summary.replayCheck.differences).toEqual([
      expect.stringMatching(/^schedule digest differs \(bundle 000000000000…, replay [0-9a-f]{12}…\)$/),
      expect.stringMatching(/^history differs \(sha256 bundle ffffffffffff…, replay [0-9a-f]{12}…\)$/),
      expect.stringMatching(/history\.ndjson .* is not the one bundle\.json records/),
    ]);
    expect(run.stderr).toMatch(/^replay check: NOT reproduced — schedule digest differs/m);
  }, 60_000);
});
