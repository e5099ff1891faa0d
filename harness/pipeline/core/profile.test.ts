// Profiles as data (pure): each legacy profile is the original service with ONE bug put back, and the few
// functions that take a profile say what it changes.
import { describe, expect, test } from 'vitest';
import {
  ORIGINAL_SERVICE_POLICY,
  PROFILE_POLICIES,
  duplicateLogging,
  isPipelineProfile,
  pipelineProfiles,
  policyOf,
  receivedChunksRewrite,
  storedOnOpen,
  type PipelineProfile,
  type ProfilePolicy,
} from './profile.ts';

function changedKeys(policy: ProfilePolicy): string[] {
  return (Object.keys(ORIGINAL_SERVICE_POLICY) as (keyof ProfilePolicy)[])
    .filter((k) => policy[k] !== ORIGINAL_SERVICE_POLICY[k])
    .sort();
}

describe('profile policies', () => {
  test('every profile has a policy, and only profiles are profiles', () => {
    expect(Object.keys(PROFILE_POLICIES).sort()).toEqual([...pipelineProfiles].sort());
    for (const p of pipelineProfiles) expect(policyOf(p)).toBe(PROFILE_POLICIES[p]);
    expect(isPipelineProfile('fixed')).toBe(true);
    expect(isPipelineProfile('legacy')).toBe(false);
  });

  test('each legacy profile changes only what its bug needs (README.md table, PROTOCOL.md §7)', () => {
    const expected: Record<Exclude<PipelineProfile, 'fixed'>, string[]> = {
      'legacy-insert': ['looksUpRows'],
      'legacy-two-writers': ['edgeWriter', 'onInsertConflict'],
      'legacy-memory-chunks': ['chunksIn', 'routesDurable'],
      'legacy-reset-count': ['resumeResetsCount'],
      'legacy-ttl': ['chunksExpire'],
    };
    for (const [profile, keys] of Object.entries(expected)) {
      expect(changedKeys(PROFILE_POLICIES[profile as PipelineProfile]), profile).toEqual(keys);
    }
  });

  test('fixed: the pipeline stage, the resume migration handler, fn_log_duplicate_image, owed ACKs and adoption — and none of the bugs', () => {
    expect(changedKeys(PROFILE_POLICIES.fixed)).toEqual([
      'adoptsInFlight',
      'logsDuplicatesWith',
      'needsStage',
      'opensWith',
      'recordsOwedAcks',
    ]);
    const owing = pipelineProfiles.filter((p) => PROFILE_POLICIES[p].recordsOwedAcks);
    expect(owing).toEqual(['fixed']);
  });
});

describe('what a profile changes', () => {
  const fixed = PROFILE_POLICIES.fixed;
  const memory = PROFILE_POLICIES['legacy-memory-chunks'];
  const plain = PROFILE_POLICIES['legacy-reset-count'];

  test('duplicate logging: fixed always through the function; legacy by plain SQL where the stage has the table', () => {
    expect(duplicateLogging(fixed, true)).toBe('function');
    expect(duplicateLogging(fixed, false)).toBe('function');
    expect(duplicateLogging(plain, true)).toBe('plain_sql');
    expect(duplicateLogging(plain, false)).toBe('none');
  });

  test('a database profile keeps the row count; legacy-memory-chunks counts what it holds and writes it back on a resume', () => {
    const resumed = { isResume: true, receivedChunks: 12 };
    const created = { isResume: false, receivedChunks: 0 };
    for (const p of [fixed, plain]) {
      expect(receivedChunksRewrite(p, resumed, 0)).toBeNull();
      expect(storedOnOpen(p, resumed, 0)).toBe(12);
    }
    // After a restart it holds nothing: progress goes back to 0 (I4, the profile's bug).
    expect(receivedChunksRewrite(memory, resumed, 0)).toBe(0);
    expect(storedOnOpen(memory, resumed, 0)).toBe(0);
    // Holding what the row says, or opening a new row: nothing to write.
    expect(receivedChunksRewrite(memory, resumed, 12)).toBeNull();
    expect(receivedChunksRewrite(memory, created, 3)).toBeNull();
    expect(storedOnOpen(memory, created, 3)).toBe(3);
  });
});
