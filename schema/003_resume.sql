-- camfleet schema step 3: resume  (the seed guide's APPLY_IMAGE_RESUME_MIGRATION.sql, PROTOCOL.md §6)
-- Adds the UNIQUE (device_id, image_name) constraint, the resume indexes, duplicate_images_log, the three helper
-- functions and the incomplete_images_report view. Refuses, changing nothing, while duplicates exist: run the
-- cleanup step (002_cleanup.sql = APPLY_IMAGE_RESUME_CLEANUP_FIRST.sql) first. Idempotent; one transaction.
-- Pasteable unchanged into the Supabase SQL editor (grants to Supabase roles only where those roles exist).

BEGIN;

-- Guard: with duplicates present the constraint cannot be added; say which step fixes it.
DO $$
DECLARE
  v_groups integer;
BEGIN
  SELECT count(*) INTO v_groups
  FROM (SELECT 1 FROM device_images GROUP BY device_id, image_name HAVING count(*) > 1) AS g;
  IF v_groups > 0 THEN
    RAISE EXCEPTION 'Cannot add UNIQUE constraint: % duplicate (device_id, image_name) groups exist', v_groups
      USING HINT = 'Run the cleanup step first: APPLY_IMAGE_RESUME_CLEANUP_FIRST.sql (schema/002_cleanup.sql, npm run migrate -- up --to cleanup). Nothing was changed.';
  END IF;
END $$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'device_images_device_id_image_name_key'
                   AND conrelid = 'device_images'::regclass) THEN
    ALTER TABLE device_images
      ADD CONSTRAINT device_images_device_id_image_name_key UNIQUE (device_id, image_name);
    RAISE NOTICE 'Added UNIQUE constraint on device_images(device_id, image_name)';
  ELSE
    RAISE NOTICE 'UNIQUE constraint on device_images(device_id, image_name) already exists';
  END IF;
END $$;

CREATE INDEX IF NOT EXISTS idx_device_images_resume ON device_images (device_id, image_name, status);
CREATE INDEX IF NOT EXISTS idx_device_images_incomplete ON device_images (device_id, status)
  WHERE status IN ('pending', 'receiving');

CREATE TABLE IF NOT EXISTS duplicate_images_log (
  log_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  device_id uuid NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
  image_id uuid REFERENCES device_images (image_id) ON DELETE SET NULL,
  image_name text NOT NULL,
  original_captured_at timestamptz,
  duplicate_received_at timestamptz DEFAULT now(),
  duplicate_metadata jsonb NOT NULL,
  created_at timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_duplicate_images_log_device ON duplicate_images_log (device_id, image_name);

-- Is there a row for this image, and may a transfer resume into it? Resumable = pending or receiving.
CREATE OR REPLACE FUNCTION fn_check_image_resumable(p_device_id uuid, p_image_name text)
RETURNS TABLE (image_id uuid, status text, received_chunks integer, total_chunks integer, is_resumable boolean)
LANGUAGE sql STABLE
AS $fn$
  SELECT di.image_id, di.status, di.received_chunks, di.total_chunks,
         di.status IN ('pending', 'receiving') AS is_resumable
  FROM device_images di
  WHERE di.device_id = p_device_id AND di.image_name = p_image_name;
$fn$;

-- A re-announced image that is already complete: log it against the complete row, store no new image row.
CREATE OR REPLACE FUNCTION fn_log_duplicate_image(p_device_id uuid, p_image_name text, p_duplicate_metadata jsonb)
RETURNS uuid
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_image_id uuid;
  v_captured_at timestamptz;
  v_log_id uuid;
BEGIN
  SELECT di.image_id, di.captured_at INTO v_image_id, v_captured_at
  FROM device_images di
  WHERE di.device_id = p_device_id AND di.image_name = p_image_name AND di.status = 'complete'
  LIMIT 1;

  INSERT INTO duplicate_images_log (device_id, image_id, image_name, original_captured_at, duplicate_metadata)
  VALUES (p_device_id, v_image_id, p_image_name, v_captured_at, COALESCE(p_duplicate_metadata, '{}'::jsonb))
  RETURNING log_id INTO v_log_id;
  RETURN v_log_id;
EXCEPTION WHEN OTHERS THEN
  RAISE WARNING 'fn_log_duplicate_image(%, %) failed: % (%)', p_device_id, p_image_name, SQLERRM, SQLSTATE;
  RETURN NULL;
END;
$fn$;

-- The 4-argument overload of the original must go first: with both present Postgres fails calls with 42725
-- "function name is not unique" (PROTOCOL.md §7.5).
DROP FUNCTION IF EXISTS fn_wake_ingestion_handler(uuid, timestamptz, text, jsonb);

-- Metadata arrived: create the image row, or resume the existing one. The resume path NEVER touches
-- received_chunks (the original's UPDATE fallback reset it to 0). p_telemetry_data carries the metadata message
-- (image_size, total_chunks / total_chunk_count, sensor readings) and is stored as the row's metadata.
CREATE OR REPLACE FUNCTION fn_wake_ingestion_handler(
  p_device_id uuid,
  p_captured_at timestamptz,
  p_image_name text,
  p_telemetry_data jsonb,
  p_existing_image_id uuid DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
DECLARE
  v_device devices%ROWTYPE;
  v_image_id uuid;
  v_status text;
  v_received integer;
  v_image_size integer;
  v_total integer;
BEGIN
  -- Parsed here, not in DECLARE, so a bad number is answered by the EXCEPTION clause below like any other error.
  v_image_size := NULLIF(p_telemetry_data ->> 'image_size', '')::integer;
  v_total := COALESCE(NULLIF(p_telemetry_data ->> 'total_chunks', ''),
                      NULLIF(p_telemetry_data ->> 'total_chunk_count', ''),
                      NULLIF(p_telemetry_data ->> 'total_chunks_count', ''))::integer;
  SELECT * INTO v_device FROM devices WHERE device_id = p_device_id;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('success', false, 'error', 'device_not_found',
                              'message', format('no device %s', p_device_id));
  END IF;

  IF p_existing_image_id IS NULL THEN
    INSERT INTO device_images (device_id, company_id, program_id, site_id, image_name, image_size, captured_at,
                               total_chunks, received_chunks, status, metadata)
    VALUES (p_device_id, v_device.company_id, v_device.program_id, v_device.site_id, p_image_name, v_image_size,
            p_captured_at, v_total, 0, 'receiving', p_telemetry_data)
    ON CONFLICT ON CONSTRAINT device_images_device_id_image_name_key DO NOTHING
    RETURNING image_id INTO v_image_id;
    IF v_image_id IS NOT NULL THEN
      RETURN jsonb_build_object('success', true, 'image_id', v_image_id, 'is_resume', false,
                                'received_chunks', 0, 'total_chunks', v_total);
    END IF;
    -- Lost a race with another writer: the row exists now, so this becomes a resume of it.
    SELECT di.image_id INTO p_existing_image_id
    FROM device_images di WHERE di.device_id = p_device_id AND di.image_name = p_image_name;
  END IF;

  UPDATE device_images di
  SET captured_at = p_captured_at,
      image_size = v_image_size,
      total_chunks = v_total,
      metadata = p_telemetry_data,
      status = 'receiving',
      updated_at = now()
  WHERE di.image_id = p_existing_image_id AND di.device_id = p_device_id AND di.status <> 'complete'
  RETURNING di.image_id, di.received_chunks INTO v_image_id, v_received;
  IF v_image_id IS NOT NULL THEN
    RETURN jsonb_build_object('success', true, 'image_id', v_image_id, 'is_resume', true,
                              'received_chunks', v_received, 'total_chunks', v_total);
  END IF;

  SELECT di.status INTO v_status FROM device_images di
  WHERE di.image_id = p_existing_image_id AND di.device_id = p_device_id;
  IF v_status = 'complete' THEN
    RETURN jsonb_build_object('success', true, 'image_id', p_existing_image_id, 'is_resume', false,
                              'already_complete', true);
  END IF;
  RETURN jsonb_build_object('success', false, 'error', 'image_not_found',
                            'message', format('no image %s for device %s', p_existing_image_id, p_device_id));
EXCEPTION WHEN OTHERS THEN
  RETURN jsonb_build_object('success', false, 'error', SQLSTATE, 'message', SQLERRM);
END;
$fn$;

CREATE OR REPLACE VIEW incomplete_images_report AS
SELECT d.device_code,
       d.device_mac,
       di.image_id,
       di.image_name,
       di.status,
       di.received_chunks,
       di.total_chunks,
       CASE WHEN COALESCE(di.total_chunks, 0) > 0
            THEN round(100.0 * COALESCE(di.received_chunks, 0) / di.total_chunks, 1)
       END AS completion_percentage,
       di.captured_at,
       di.updated_at,
       now() - di.updated_at AS time_since_update
FROM device_images di
JOIN devices d ON d.device_id = di.device_id
WHERE di.status IN ('pending', 'receiving');

-- Supabase roles exist only on Supabase; elsewhere these grants are skipped.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON duplicate_images_log TO service_role;
    GRANT SELECT ON incomplete_images_report TO service_role;
    GRANT EXECUTE ON FUNCTION fn_check_image_resumable(uuid, text) TO service_role;
    GRANT EXECUTE ON FUNCTION fn_log_duplicate_image(uuid, text, jsonb) TO service_role;
    GRANT EXECUTE ON FUNCTION fn_wake_ingestion_handler(uuid, timestamptz, text, jsonb, uuid) TO service_role;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    GRANT SELECT ON duplicate_images_log TO authenticated;
    GRANT SELECT ON incomplete_images_report TO authenticated;
    GRANT EXECUTE ON FUNCTION fn_check_image_resumable(uuid, text) TO authenticated;
  END IF;
END $$;

DO $$
DECLARE
  v_incomplete integer;
  v_logs integer;
BEGIN
  SELECT count(*) INTO v_incomplete FROM device_images WHERE status IN ('pending', 'receiving');
  SELECT count(*) INTO v_logs FROM duplicate_images_log;
  RAISE NOTICE '=== Image Resume Migration Complete ===';
  RAISE NOTICE 'Incomplete images in database: %', v_incomplete;
  RAISE NOTICE 'Duplicate logs recorded: %', v_logs;
  RAISE NOTICE 'Resume system is now active!';
END $$;

COMMIT;
