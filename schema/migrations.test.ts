// The image-resume migrations on real Postgres: the cleanup keeps exactly the best row of each duplicate group and
// backs up exactly the rest, the resume step enforces uniqueness, both are idempotent, restore behaves as the seed
// guide says. Runs against the embedded server and, when reachable, the machine's PostgreSQL server.
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { keptImageIds, type RankableImage } from '../harness/checker/cleanup-ranking.ts';
import { restoreBackup } from '../harness/migrate/restore.ts';
import { databaseTargets, newPool, scratchDatabase } from '../test/databases.ts';
import { applyCollecting, resetToStage, stepFor } from '../test/schema-fixture.ts';
import { applyStep, MigrationError, migrateUp, readStageStatus } from './runner.ts';

const imageColumns = [
  'image_id',
  'device_id',
  'company_id',
  'program_id',
  'site_id',
  'image_name',
  'image_url',
  'image_size',
  'captured_at',
  'received_at',
  'total_chunks',
  'received_chunks',
  'status',
  'error_code',
  'retry_count',
  'metadata',
  'created_at',
  'updated_at',
] as const;
const columnList = imageColumns.join(', ');

const deviceIds = [
  '11111111-1111-4111-8111-111111111111',
  '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333',
];
const instants = [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2), Date.UTC(2026, 0, 2, 12), Date.UTC(2026, 0, 3)];

interface GeneratedImage {
  image_id: string;
  device: number;
  name: string;
  status: string;
  updatedAt: number | null;
  capturedAt: number;
  received: number | null;
  total: number;
  retry: number;
  error: number;
  meta: { n: number } | null;
}

/** Few devices, names and instants, so groups collide and ties on every ranking key are common. */
const imageArb: fc.Arbitrary<GeneratedImage> = fc.record({
  image_id: fc.uuid({ version: 4 }),
  device: fc.integer({ min: 0, max: deviceIds.length - 1 }),
  name: fc.constantFrom('image_1.jpg', 'image_2.jpg', 'image_3.jpg'),
  status: fc.constantFrom('pending', 'receiving', 'complete', 'failed'),
  updatedAt: fc.option(fc.constantFrom(...instants), { freq: 4 }),
  capturedAt: fc.constantFrom(...instants),
  received: fc.option(fc.integer({ min: 0, max: 4 }), { freq: 6 }),
  total: fc.integer({ min: 1, max: 4 }),
  retry: fc.integer({ min: 0, max: 3 }),
  error: fc.integer({ min: 0, max: 2 }),
  meta: fc.option(fc.record({ n: fc.integer() })),
});
const tableArb = fc.uniqueArray(imageArb, { selector: (row) => row.image_id, minLength: 0, maxLength: 30 });

async function insertImages(client: pg.ClientBase, rows: readonly GeneratedImage[]): Promise<void> {
  await client.query(
    `INSERT INTO devices (device_id, device_mac, device_code) SELECT id, 'MAC' || ord, 'DEVICE-ESP32S3-' || ord
                      FROM unnest($1::uuid[]) WITH ORDINALITY AS d(id, ord)`,
    [deviceIds],
  );
  for (const row of rows) {
    await client.query(
      `INSERT INTO device_images (image_id, device_id, image_name, image_url, image_size, captured_at, received_at,
                                  total_chunks, received_chunks, status, error_code, retry_count, metadata, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        row.image_id,
        deviceIds[row.device],
        row.name,
        row.status === 'complete' ? `u/${row.image_id}` : null,
        row.total * 1000,
        new Date(row.capturedAt),
        row.status === 'complete' ? new Date(row.capturedAt) : null,
        row.total,
        row.received,
        row.status,
        row.error,
        row.retry,
        row.meta,
        new Date(row.capturedAt),
        row.updatedAt === null ? null : new Date(row.updatedAt),
      ],
    );
  }
}

type Row = Record<string, unknown>;
const byId = (rows: Row[]) => new Map(rows.map((r) => [String(r.image_id), r]));

async function snapshot(client: pg.ClientBase): Promise<{ images: Row[]; backup: Row[] }> {
  const images = (await client.query(`SELECT ${columnList} FROM device_images ORDER BY image_id`)).rows;
  const hasBackup = (await client.query(`SELECT to_regclass('device_images_duplicates_backup') IS NOT NULL AS b`))
    .rows[0]?.b;
  const backup = hasBackup
    ? (await client.query(`SELECT backup_id, ${columnList} FROM device_images_duplicates_backup ORDER BY image_id`))
        .rows
    : [];
  return { images, backup };
}

const stripBackupId = ({ backup_id: _id, ...rest }: Row) => rest;

describe.each(databaseTargets())('migrations on $label', (target) => {
  const run = target.server ? describe : describe.skip;
  run('', () => {
    let pool: pg.Pool;
    let drop: () => Promise<void>;
    let client: pg.PoolClient;

    beforeAll(async () => {
      const db = await scratchDatabase(target.server!, 'migrations');
      drop = () => db.drop();
      pool = newPool(db.url, 2);
      client = await pool.connect();
    });
    afterAll(async () => {
      client?.release();
      await pool?.end();
      await drop?.();
    });

    test('property: cleanup keeps the best row of each group, backs up exactly the rest; resume then enforces uniqueness; both idempotent; restore', async () => {
      await fc.assert(
        fc.asyncProperty(tableArb, async (rows) => {
          await resetToStage(client, 'base');
          await insertImages(client, rows);
          const before = (await snapshot(client)).images;

          const notices = await applyCollecting(client, 'cleanup');
          const afterCleanup = await snapshot(client);

          // (a) no duplicate pair remains
          const keys = afterCleanup.images.map((r) => `${String(r.device_id)}|${String(r.image_name)}`);
          expect(new Set(keys).size).toBe(keys.length);

          // (b) the kept row is the one an independent implementation of the ranking picks
          const expectedKept = keptImageIds(before as unknown as RankableImage[]);
          expect(afterCleanup.images.map((r) => String(r.image_id)).sort()).toEqual([...expectedKept.values()].sort());

          // (c) backup ∪ remaining = the original rows, column for column, and the two are disjoint
          const union = [...afterCleanup.images, ...afterCleanup.backup.map(stripBackupId)];
          expect(union.length).toBe(before.length);
          expect(byId(union)).toEqual(byId(before));

          const groups = new Set(before.map((r) => `${String(r.device_id)}|${String(r.image_name)}`)).size;
          const duplicateGroups = new Set(
            keys.filter((k) => before.filter((r) => `${String(r.device_id)}|${String(r.image_name)}` === k).length > 1),
          ).size;
          expect(groups).toBe(afterCleanup.images.length);
          expect(notices).toContain(`Found ${duplicateGroups} duplicate image_name pairs`);
          expect(notices).toContain(`Deleted ${afterCleanup.backup.length} duplicate image records`);
          expect(notices).toContain('✓ All duplicates cleaned up successfully');

          // (d) the resume migration then succeeds and a duplicate INSERT fails with 23505
          const resumeNotices = await applyCollecting(client, 'resume');
          expect(resumeNotices).toContain('Resume system is now active!');
          await client.query(
            `INSERT INTO devices (device_id, device_mac) VALUES ('44444444-4444-4444-8444-444444444444', 'X')`,
          );
          await client.query(
            `INSERT INTO device_images (device_id, image_name, captured_at) VALUES ('44444444-4444-4444-8444-444444444444', 'dup.jpg', now())`,
          );
          await expect(
            client.query(
              `INSERT INTO device_images (device_id, image_name, captured_at) VALUES ('44444444-4444-4444-8444-444444444444', 'dup.jpg', now())`,
            ),
          ).rejects.toMatchObject({ code: '23505' });
          await client.query(`DELETE FROM devices WHERE device_id = '44444444-4444-4444-8444-444444444444'`);

          // (e) running both steps again changes nothing
          const settled = await snapshot(client);
          const again = await applyCollecting(client, 'cleanup');
          expect(again).toContain('Found 0 duplicate image_name pairs');
          await applyCollecting(client, 'resume');
          expect(await snapshot(client)).toEqual(settled);

          // (f) restoring a backup row is blocked while its pair exists, and works once the kept row is gone
          const victim = afterCleanup.backup[0];
          if (victim) {
            const backupId = String(victim.backup_id);
            expect(await restoreBackup(client, backupId)).toMatchObject({ kind: 'blocked' });
            expect((await snapshot(client)).images).toEqual(settled.images);
            await client.query('DELETE FROM device_images WHERE device_id = $1 AND image_name = $2', [
              victim.device_id,
              victim.image_name,
            ]);
            expect(await restoreBackup(client, backupId)).toMatchObject({ kind: 'restored' });
            const restored = await client.query(
              `SELECT ${columnList} FROM device_images WHERE device_id = $1 AND image_name = $2`,
              [victim.device_id, victim.image_name],
            );
            expect(restored.rows).toHaveLength(1);
            const {
              image_id: _a,
              created_at: _b,
              updated_at: _c,
              retry_count: _d,
              ...restoredCols
            } = restored.rows[0] as Row;
            const {
              image_id: _e,
              created_at: _f,
              updated_at: _g,
              retry_count: _h,
              ...victimCols
            } = stripBackupId(victim);
            expect(restoredCols).toEqual(victimCols); // the seed's restore copies every column but these four
          }
        }),
        { numRuns: 25 },
      );
    });

    test('the resume step refuses while duplicates exist, naming the cleanup step, and changes nothing', async () => {
      await resetToStage(client, 'base');
      await insertImages(client, [
        {
          image_id: 'aaaaaaaa-0000-4000-8000-000000000001',
          device: 0,
          name: 'image_1.jpg',
          status: 'complete',
          updatedAt: null,
          capturedAt: instants[0]!,
          received: 2,
          total: 2,
          retry: 0,
          error: 0,
          meta: null,
        },
        {
          image_id: 'aaaaaaaa-0000-4000-8000-000000000002',
          device: 0,
          name: 'image_1.jpg',
          status: 'receiving',
          updatedAt: null,
          capturedAt: instants[0]!,
          received: 1,
          total: 2,
          retry: 0,
          error: 0,
          meta: null,
        },
      ]);
      const schemaBefore = await client.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      const rowsBefore = await snapshot(client);
      const failure = await applyStep(client, stepFor('resume')).then(
        () => null,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(MigrationError);
      expect((failure as MigrationError).message).toMatch(/1 duplicate \(device_id, image_name\) groups exist/);
      expect((failure as MigrationError).hint).toMatch(/APPLY_IMAGE_RESUME_CLEANUP_FIRST\.sql/);
      expect(
        (
          await client.query(
            `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
          )
        ).rows,
      ).toEqual(schemaBefore.rows);
      expect(await snapshot(client)).toEqual(rowsBefore);
      expect(
        (
          await client.query(
            `SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'device_images_device_id_image_name_key'`,
          )
        ).rows[0]?.n,
      ).toBe(0);
      expect(
        (await client.query(`SELECT count(*)::int AS n FROM pg_proc WHERE proname LIKE 'fn_%image%'`)).rows[0]?.n,
      ).toBe(0);
      expect(await readStageStatus(client)).toEqual({ base: true, cleanup: false, resume: false, pipeline: false });
    });

    test('up --to resume on an empty database says the base step is missing', async () => {
      await resetToStage(client, 'empty');
      await expect(migrateUp(client, 'resume')).rejects.toThrow(/base step is missing/);
      expect(await readStageStatus(client)).toEqual({ base: false, cleanup: false, resume: false, pipeline: false });
    });

    test('the resume step drops the 4-argument wake handler the original left behind (42725 otherwise)', async () => {
      await resetToStage(client, 'cleanup');
      await client.query(`CREATE FUNCTION fn_wake_ingestion_handler(uuid, timestamptz, text, jsonb) RETURNS jsonb
                          LANGUAGE sql AS $$ SELECT '{"old":true}'::jsonb $$`);
      await applyStep(client, stepFor('resume'));
      const overloads = await client.query(
        `SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'fn_wake_ingestion_handler'`,
      );
      expect(overloads.rows[0]?.n).toBe(1);
    });

    describe('helper functions', () => {
      const device = '55555555-5555-4555-8555-555555555555';
      beforeAll(async () => {
        await resetToStage(client, 'resume');
        await client.query(
          `INSERT INTO devices (device_id, device_mac, device_code) VALUES ($1, 'B8F862F9C1C4', 'DEVICE-ESP32S3-001')`,
          [device],
        );
      });

      test('fn_wake_ingestion_handler creates on the first call and resumes on the second without resetting received_chunks', async () => {
        const meta = { image_size: 70959, total_chunk_count: 70, temperature: 22.5 };
        const first = (
          await client.query(`SELECT fn_wake_ingestion_handler($1, $2, 'image_3.jpg', $3) AS r`, [
            device,
            new Date(instants[0]!),
            meta,
          ])
        ).rows[0]?.r as Row;
        expect(first).toMatchObject({ success: true, is_resume: false, received_chunks: 0 });
        const imageId = String(first.image_id);
        const row1 = (
          await client.query(
            'SELECT status, received_chunks, total_chunks, image_size FROM device_images WHERE image_id = $1',
            [imageId],
          )
        ).rows[0];
        expect(row1).toEqual({ status: 'receiving', received_chunks: 0, total_chunks: 70, image_size: 70959 });
        await client.query('UPDATE device_images SET received_chunks = 40 WHERE image_id = $1', [imageId]);
        const second = (
          await client.query(`SELECT fn_wake_ingestion_handler($1, $2, 'image_3.jpg', $3, $4) AS r`, [
            device,
            new Date(instants[1]!),
            meta,
            imageId,
          ])
        ).rows[0]?.r as Row;
        expect(second).toMatchObject({ success: true, is_resume: true, image_id: imageId, received_chunks: 40 });
        const row2 = (
          await client.query('SELECT status, received_chunks, captured_at FROM device_images WHERE image_id = $1', [
            imageId,
          ])
        ).rows[0];
        expect(row2).toEqual({ status: 'receiving', received_chunks: 40, captured_at: new Date(instants[1]!) });
        // Without the id, a second writer that lost the race also resumes the same row instead of failing.
        const raced = (
          await client.query(`SELECT fn_wake_ingestion_handler($1, $2, 'image_3.jpg', $3) AS r`, [
            device,
            new Date(instants[1]!),
            meta,
          ])
        ).rows[0]?.r as Row;
        expect(raced).toMatchObject({ success: true, is_resume: true, image_id: imageId, received_chunks: 40 });
        expect(
          (await client.query(`SELECT count(*)::int AS n FROM device_images WHERE image_name = 'image_3.jpg'`)).rows[0]
            ?.n,
        ).toBe(1);
      });

      test('fn_wake_ingestion_handler answers bad numbers with success:false instead of raising', async () => {
        for (const bad of [
          { image_size: 'abc', total_chunk_count: 2 },
          { image_size: 3_000_000_000, total_chunk_count: 2 },
        ]) {
          const r = (
            await client.query(`SELECT fn_wake_ingestion_handler($1, now(), 'bad.jpg', $2) AS r`, [device, bad])
          ).rows[0]?.r;
          expect(r).toMatchObject({ success: false });
        }
      });

      test('fn_check_image_resumable says resumable only for pending and receiving', async () => {
        for (const [i, status] of ['pending', 'receiving', 'complete', 'failed'].entries()) {
          await client.query(
            `INSERT INTO device_images (device_id, image_name, captured_at, status) VALUES ($1, $2, now(), $3)`,
            [device, `r_${i}.jpg`, status],
          );
          const r = (await client.query('SELECT * FROM fn_check_image_resumable($1, $2)', [device, `r_${i}.jpg`]))
            .rows[0];
          expect(r).toMatchObject({ status, is_resumable: status === 'pending' || status === 'receiving' });
        }
        expect(
          (await client.query('SELECT * FROM fn_check_image_resumable($1, $2)', [device, 'nope.jpg'])).rows,
        ).toEqual([]);
      });

      test('fn_log_duplicate_image logs against the complete row and stores no image row', async () => {
        const complete = (
          await client.query(
            `INSERT INTO device_images (device_id, image_name, captured_at, status) VALUES ($1, 'done.jpg', $2, 'complete') RETURNING image_id`,
            [device, new Date(instants[2]!)],
          )
        ).rows[0]?.image_id as string;
        const before = (await client.query('SELECT count(*)::int AS n FROM device_images')).rows[0]?.n as number;
        const logId = (
          await client.query(`SELECT fn_log_duplicate_image($1, 'done.jpg', '{"resent":true}') AS id`, [device])
        ).rows[0]?.id as string;
        expect(logId).toMatch(/^[0-9a-f-]{36}$/);
        const log = (
          await client.query(
            'SELECT image_id, image_name, original_captured_at, duplicate_metadata FROM duplicate_images_log WHERE log_id = $1',
            [logId],
          )
        ).rows[0];
        expect(log).toEqual({
          image_id: complete,
          image_name: 'done.jpg',
          original_captured_at: new Date(instants[2]!),
          duplicate_metadata: { resent: true },
        });
        expect((await client.query('SELECT count(*)::int AS n FROM device_images')).rows[0]?.n).toBe(before);
        // An error is a WARNING and NULL, not a failed transaction: an unknown device violates the FK.
        expect(
          (
            await client.query(
              `SELECT fn_log_duplicate_image('66666666-6666-4666-8666-666666666666', 'x.jpg', '{}') AS id`,
            )
          ).rows[0]?.id,
        ).toBeNull();
      });

      test('incomplete_images_report lists in-flight images with their completion percentage', async () => {
        await client.query(
          `INSERT INTO device_images (device_id, image_name, captured_at, status, received_chunks, total_chunks) VALUES ($1, 'half.jpg', now(), 'receiving', 35, 70)`,
          [device],
        );
        const r = (
          await client.query(
            `SELECT device_code, device_mac, completion_percentage FROM incomplete_images_report WHERE image_name = 'half.jpg'`,
          )
        ).rows[0];
        expect(r).toEqual({
          device_code: 'DEVICE-ESP32S3-001',
          device_mac: 'B8F862F9C1C4',
          completion_percentage: '50.0',
        });
      });
    });
  });
});
