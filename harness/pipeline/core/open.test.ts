// Opening a transfer (pure): the request a metadata decision writes, what the store's answer means, and what a
// failed plain-SQL INSERT means for each profile.
import { describe, expect, test } from 'vitest';
import { decideMetadata } from './metadata.ts';
import { edgeWriteOf, judgeInsertFailure, judgeOpened, openRequestFor, sqlStateOf, UNIQUE_VIOLATION } from './open.ts';
import { pipelineProfiles, PROFILE_POLICIES } from './profile.ts';
import { meta, row } from './test-fixtures.ts';

const at = { deviceId: 'dev-uuid', dialect: 'fw350', nowMs: Date.UTC(2026, 0, 20) } as const;

describe('openRequestFor', () => {
  test('create: a new row under the decided name, the route as announced, the device capture time', () => {
    const req = openRequestFor(meta(), { kind: 'create', storedName: 'image_3.jpg' }, at);
    expect(req).toMatchObject({
      route: {
        deviceId: 'dev-uuid',
        wireName: 'image_3.jpg',
        captureTimestamp: '2026-01-14T10:00:00Z',
        imageSize: 70959,
        totalChunks: 70,
      },
      storedName: 'image_3.jpg',
      capturedAtIso: '2026-01-14T10:00:00.000Z',
      existingImageId: null,
    });
    expect(req.metadata).toMatchObject({ image_name: 'image_3.jpg', dialect: 'fw350', captured_at_source: 'device' });
  });

  test('resume and duplicate: the existing row, under its stored (possibly disambiguated) name', () => {
    const image = row({ imageId: 'id-9', imageName: 'image_3~20260114100000.jpg' });
    for (const kind of ['resume', 'duplicate'] as const) {
      const req = openRequestFor(meta(), { kind, image }, at);
      expect(req.existingImageId).toBe('id-9');
      expect(req.storedName).toBe('image_3~20260114100000.jpg');
      expect(req.route.wireName).toBe('image_3.jpg');
      expect(req.metadata.stored_name).toBe('image_3~20260114100000.jpg');
    }
  });

  test('an unusable device time falls back to the server time it is given', () => {
    const req = openRequestFor(meta({ timestamp: '1970-01-01 0:0:0' }), { kind: 'create', storedName: 'x.jpg' }, at);
    expect(req.capturedAtIso).toBe(new Date(at.nowMs).toISOString());
    expect(req.metadata.captured_at_source).toBe('server_fallback');
  });
});

describe('judgeOpened', () => {
  test('refused, found complete by another writer, or receiving (with what the row had)', () => {
    expect(judgeOpened('a.jpg', { ok: false, code: 'device_not_found', message: 'no such device' })).toEqual({
      kind: 'refused',
      reason: 'fn_wake_ingestion_handler refused a.jpg: device_not_found no such device',
    });
    const ok = { ok: true, imageId: 'id-1', isResume: true, receivedChunks: 7 } as const;
    expect(judgeOpened('a.jpg', { ...ok, alreadyComplete: true })).toEqual({ kind: 'found_complete', imageId: 'id-1' });
    expect(judgeOpened('a.jpg', { ...ok, alreadyComplete: false })).toEqual({
      kind: 'receiving',
      imageId: 'id-1',
      isResume: true,
      receivedChunks: 7,
    });
  });
});

describe('a failed plain-SQL INSERT', () => {
  const uniqueViolation = Object.assign(new Error('duplicate key value'), { code: UNIQUE_VIOLATION });

  test('its SQLSTATE is read from pg errors only', () => {
    expect(sqlStateOf(uniqueViolation)).toBe('23505');
    expect(sqlStateOf(new Error('no code'))).toBeUndefined();
    expect(sqlStateOf({ code: '23505' })).toBeUndefined();
    expect(sqlStateOf(Object.assign(new Error('x'), { code: 23505 }))).toBeUndefined();
  });

  test('anything but a unique violation is the message’s own error, whatever the profile', () => {
    for (const p of pipelineProfiles) {
      expect(judgeInsertFailure(PROFILE_POLICIES[p], '40001', 'a.jpg', 'x')).toEqual({ kind: 'rethrow' });
      expect(judgeInsertFailure(PROFILE_POLICIES[p], undefined, 'a.jpg', 'x')).toEqual({ kind: 'rethrow' });
    }
  });

  test('a unique violation refuses the message (legacy-insert), or makes the losing writer resume the winner (legacy-two-writers)', () => {
    expect(judgeInsertFailure(PROFILE_POLICIES['legacy-insert'], '23505', 'a.jpg', 'dup key')).toEqual({
      kind: 'refuse',
      code: 'unique_violation',
      reason: 'INSERT of a.jpg failed: a row of that name exists (dup key)',
    });
    expect(judgeInsertFailure(PROFILE_POLICIES['legacy-two-writers'], '23505', 'a.jpg', 'dup key')).toMatchObject({
      kind: 'resume_winner',
    });
  });
});

describe('the edge writer', () => {
  test('writes what it decides itself: a create or a resume, nothing for a re-send or a refusal', () => {
    expect(edgeWriteOf(decideMetadata(meta(), new Map()))).toEqual({ kind: 'create', storedName: 'image_3.jpg' });
    const unfinished = row();
    expect(edgeWriteOf(decideMetadata(meta(), new Map([[unfinished.imageName, unfinished]])))).toEqual({
      kind: 'resume',
      image: unfinished,
    });
    const stored = row({ status: 'complete' });
    expect(edgeWriteOf(decideMetadata(meta(), new Map([[stored.imageName, stored]])))).toBeUndefined();
    expect(edgeWriteOf(decideMetadata(meta({ max_chunk_size: 1_000_000 }), new Map()))).toBeUndefined();
  });
});
