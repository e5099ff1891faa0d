// The replay check without a run: what it compares, what it says, and that a live side is never claimed checked.
import { describe, expect, test } from 'vitest';
import { failed, passed } from '../checker/verdict.ts';
import { liveRunDefaults } from './run-options.ts';
import { bundledOptions, bundleFormat, sha256Hex, type BundleFile } from './bundle.ts';
import { compareReplay, firstDifferentLine, type ReplayedRun } from './replay-check.ts';

const history = '{"seq":1}\n{"seq":2}\n{"seq":3}\n';
const verdicts = [failed('I1', '1 duplicate group', []), passed('I2', 'ok')];
const digest = 'd'.repeat(64);
const simBundle: BundleFile = {
  format: bundleFormat,
  createdAt: '2026-01-01T00:00:00.000Z',
  mode: 'sim',
  sim: { scheduleDigest: digest, historySha256: sha256Hex(history), historyFileSha256: sha256Hex(history) },
  seed: 4,
  scenario: null,
  options: bundledOptions({ ...liveRunDefaults, seed: 4, brokerUrl: undefined, databaseUrl: undefined }),
  faultPlan: { summary: 'none', plan: liveRunDefaults.faults },
  expected: 'pass',
  verdict: 'fail',
  verdicts,
  replay: 'npm run simulate -- --replay b',
};
const same: ReplayedRun = { mode: 'sim', aborted: false, verdicts, scheduleDigest: digest, historyText: history };

describe('compareReplay', () => {
  test('the same failing invariants, schedule digest and history: reproduced exactly', () => {
    const check = compareReplay(simBundle, history, same);
    expect(check.status).toBe('reproduced');
    expect(check.line).toBe(
      `replay check: same failing invariants (I1), same schedule digest (dddddddddddd…), same history (sha256 ${sha256Hex(history).slice(0, 12)}…) — reproduced exactly`,
    );
  });

  test('each difference is named, with the first differing line of the history', () => {
    const other = '{"seq":1}\n{"seq":2,"x":1}\n{"seq":3}\n';
    const check = compareReplay(simBundle, history, {
      ...same,
      verdicts: [passed('I1', 'ok'), failed('I2', 'lost', [])],
      scheduleDigest: 'e'.repeat(64),
      historyText: other,
    });
    expect(check.status).toBe('diverged');
    expect(check.differences).toEqual([
      'failing invariants differ (bundle: I1; replay: I2)',
      'schedule digest differs (bundle dddddddddddd…, replay eeeeeeeeeeee…)',
      `history differs (sha256 bundle ${sha256Hex(history).slice(0, 12)}…, replay ${sha256Hex(other).slice(0, 12)}…; first difference at line 2 of history.ndjson)`,
    ]);
    expect(check.line).toMatch(/^replay check: NOT reproduced — failing invariants differ/);
  });

  test('a bundle from before device_sent_chunks events is held against the replay without them', () => {
    const old = '{"type":"device_wake","seq":1}\n{"type":"device_sleep","seq":2}\n';
    const now =
      '{"type":"device_wake","seq":1}\n{"type":"device_sent_chunks","seq":2}\n{"type":"device_sleep","seq":3}\n';
    const bundle = {
      ...simBundle,
      sim: { ...simBundle.sim!, historySha256: sha256Hex(old), historyFileSha256: sha256Hex(old) },
    };
    const check = compareReplay(bundle, old, { ...same, historyText: now });
    expect(check.status).toBe('reproduced');
    expect(check.line).toContain('without the device_sent_chunks events the bundle predates');
    // A replay that differs in anything else still diverges.
    const other = now.replace('device_sleep', 'device_final');
    expect(compareReplay(bundle, old, { ...same, historyText: other }).status).toBe('diverged');
    // A bundle with those events is compared as it is.
    const current = {
      ...simBundle,
      sim: { ...simBundle.sim!, historySha256: sha256Hex(now), historyFileSha256: sha256Hex(now) },
    };
    expect(compareReplay(current, now, { ...same, historyText: old }).status).toBe('diverged');
  });

  test('a missing or edited history.ndjson is a difference even when the replay matches the record', () => {
    expect(compareReplay(simBundle, undefined, same).differences).toEqual([
      'the bundle has no history.ndjson to hold the replay against',
    ]);
    const edited = compareReplay(simBundle, history.replace('3', '4'), same);
    expect(edited.status).toBe('diverged');
    expect(edited.line).toMatch(
      /history\.ndjson .* is not the one bundle\.json records .*: changed after it was written; same failing invariants \(I1\), same schedule digest/,
    );
  });

  test('a live bundle, a sim bundle replayed live, or a replay cut short is said not to be checked', () => {
    const { sim: _sim, ...live } = simBundle;
    const liveCheck = compareReplay({ ...live, mode: 'live' }, history, same);
    expect(liveCheck.status).toBe('not-checked');
    expect(liveCheck.line).toMatch(
      /^replay check: not checked byte for byte — the bundle records a live run, which is a sample/,
    );
    expect(liveCheck.line).toContain('failing invariants then I1, now I1');
    const replayedLive = compareReplay(simBundle, history, { ...same, mode: 'live', scheduleDigest: undefined });
    expect(replayedLive.status).toBe('not-checked');
    expect(replayedLive.line).toContain('replayed in live mode');
    const cut = compareReplay(simBundle, history, { ...same, aborted: true, historyText: '' });
    expect(cut.status).toBe('not-checked');
    expect(cut.line).toContain('the replay stopped before its end');
  });

  test('firstDifferentLine', () => {
    expect(firstDifferentLine('a\nb\n', 'a\nc\n')).toBe(2);
    expect(firstDifferentLine('a\n', 'a\nb\n')).toBe(2);
  });
});
