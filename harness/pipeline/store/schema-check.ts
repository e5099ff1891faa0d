// What each profile needs of the schema, checked once at start with an error that says which step to run.
// `fixed` needs stage 'pipeline' (schema/001..004): the unique key and fn_* of the resume migration, and the chunk
// store. The legacy profiles reproduce the ORIGINAL service, which ran before the migration: they need only the base
// tables (001) and camfleet's pipeline tables (004, which depend on 001 alone), and use duplicate_images_log only
// where a later stage created it.
import type { Sql } from '../../world/sql.ts';
import { PipelineUsageError, type PipelineProfile } from '../options.ts';
import { policyOf } from '../core/profile.ts';

export interface SchemaFeatures {
  /** duplicate_images_log exists (stage cleanup+resume): re-sends and name reuse are logged there. */
  readonly duplicateLog: boolean;
  /** device_images_device_id_image_name_key exists: a duplicate INSERT fails with 23505. */
  readonly uniqueKey: boolean;
}

export async function checkPipelineSchema(db: Sql, profile: PipelineProfile = 'fixed'): Promise<SchemaFeatures> {
  const { rows } = await db.query<{ missing: string[]; duplicate_log: boolean; unique_key: boolean }>(
    `SELECT array_remove(ARRAY[
       CASE WHEN to_regclass('device_images') IS NULL THEN 'device_images' END,
       CASE WHEN $1 AND to_regclass('duplicate_images_log') IS NULL THEN 'duplicate_images_log' END,
       CASE WHEN $1 AND to_regprocedure('fn_wake_ingestion_handler(uuid, timestamptz, text, jsonb, uuid)') IS NULL
            THEN 'fn_wake_ingestion_handler' END,
       CASE WHEN $1 AND to_regprocedure('fn_log_duplicate_image(uuid, text, jsonb)') IS NULL
            THEN 'fn_log_duplicate_image' END,
       CASE WHEN $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'device_images_device_id_image_name_key')
            THEN 'device_images_device_id_image_name_key' END,
       CASE WHEN to_regclass('image_chunks') IS NULL THEN 'image_chunks' END,
       CASE WHEN to_regclass('image_blobs') IS NULL THEN 'image_blobs' END,
       CASE WHEN to_regclass('image_transfers') IS NULL THEN 'image_transfers' END,
       CASE WHEN to_regclass('rejected_messages') IS NULL THEN 'rejected_messages' END,
       -- added to 004 later (counted refusals): a database migrated before has the table without it
       CASE WHEN to_regclass('rejected_messages') IS NOT NULL AND NOT EXISTS (
              SELECT 1 FROM information_schema.columns
              WHERE table_name = 'rejected_messages' AND column_name = 'messages'
                AND table_schema = ANY (current_schemas(false)))
            THEN 'rejected_messages.messages' END,
       CASE WHEN $1 AND to_regclass('image_acks_owed') IS NULL THEN 'image_acks_owed' END
     ], NULL) AS missing,
     to_regclass('duplicate_images_log') IS NOT NULL AS duplicate_log,
     EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'device_images_device_id_image_name_key') AS unique_key`,
    [policyOf(profile).needsStage === 'pipeline'],
  );
  const row = rows[0];
  const missing = row?.missing ?? [];
  if (missing.length > 0) {
    throw new PipelineUsageError(
      policyOf(profile).needsStage === 'pipeline'
        ? `the database is not at schema stage 'pipeline' (missing: ${missing.join(', ')}); ` +
            'run `npm run migrate -- up --to pipeline` first'
        : `profile ${profile} needs the base tables and the pipeline tables of schema/004_pipeline.sql ` +
            `(missing: ${missing.join(', ')}); create the base schema (\`npm run migrate -- up --to base\`) ` +
            'and apply schema/004_pipeline.sql',
    );
  }
  return { duplicateLog: row?.duplicate_log ?? false, uniqueKey: row?.unique_key ?? false };
}
