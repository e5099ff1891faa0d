// The pipeline needs schema stage 'pipeline' (schema/001..004): the unique key and fn_wake_ingestion_handler of the
// resume migration, and the chunk store. Checked once at start, with an error that says which step to run.
import type pg from 'pg';
import { PipelineUsageError } from '../options.ts';

export async function checkPipelineSchema(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ missing: string[] }>(
    `SELECT array_remove(ARRAY[
       CASE WHEN to_regclass('device_images') IS NULL THEN 'device_images' END,
       CASE WHEN to_regclass('duplicate_images_log') IS NULL THEN 'duplicate_images_log' END,
       CASE WHEN to_regprocedure('fn_wake_ingestion_handler(uuid, timestamptz, text, jsonb, uuid)') IS NULL
            THEN 'fn_wake_ingestion_handler' END,
       CASE WHEN to_regprocedure('fn_log_duplicate_image(uuid, text, jsonb)') IS NULL THEN 'fn_log_duplicate_image' END,
       CASE WHEN NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'device_images_device_id_image_name_key')
            THEN 'device_images_device_id_image_name_key' END,
       CASE WHEN to_regclass('image_chunks') IS NULL THEN 'image_chunks' END,
       CASE WHEN to_regclass('image_blobs') IS NULL THEN 'image_blobs' END,
       CASE WHEN to_regclass('image_transfers') IS NULL THEN 'image_transfers' END,
       CASE WHEN to_regclass('rejected_messages') IS NULL THEN 'rejected_messages' END
     ], NULL) AS missing`,
  );
  const missing = rows[0]?.missing ?? [];
  if (missing.length > 0) {
    throw new PipelineUsageError(
      `the database is not at schema stage 'pipeline' (missing: ${missing.join(', ')}); ` +
        'run `npm run migrate -- up --to pipeline` first',
    );
  }
}
