-- camfleet schema step 2: cleanup  (the seed guide's APPLY_IMAGE_RESUME_CLEANUP_FIRST.sql)
-- Keeps the BEST row of every duplicate (device_id, image_name) group and deletes the others, after copying each
-- of them, every column, into device_images_duplicates_backup. Ranking, exactly as the seed gives it:
--   status complete > receiving > pending > failed > anything else, then updated_at DESC, received_chunks DESC,
--   captured_at DESC — with NULLs ranked last (Postgres would otherwise put NULL first under DESC) and a final
--   tiebreak on image_id so the kept row never depends on physical row order.
-- One transaction. A second run finds nothing and changes nothing. Pasteable unchanged into the Supabase SQL editor.

BEGIN;

CREATE TABLE IF NOT EXISTS device_images_duplicates_backup (
  backup_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  backed_up_at timestamptz DEFAULT now(),
  backup_reason text DEFAULT 'Duplicate image_name cleanup before resume migration',
  image_id uuid,
  device_id uuid,
  company_id uuid,
  program_id uuid,
  site_id uuid,
  image_name text,
  image_url text,
  image_size integer,
  captured_at timestamptz,
  received_at timestamptz,
  total_chunks integer,
  received_chunks integer,
  status text,
  error_code integer,
  retry_count integer,
  metadata jsonb,
  created_at timestamptz,
  updated_at timestamptz
);

DO $$
DECLARE
  v_groups integer;
  v_backed_up integer;
  v_deleted integer;
  v_remaining integer;
BEGIN
  SELECT count(*) INTO v_groups
  FROM (SELECT 1 FROM device_images GROUP BY device_id, image_name HAVING count(*) > 1) AS g;
  RAISE NOTICE 'Found % duplicate image_name pairs', v_groups;

  -- Rank only the rows of duplicate groups; rank > 1 are the inferior copies.
  CREATE TEMP TABLE camfleet_cleanup_doomed ON COMMIT DROP AS
  SELECT image_id
  FROM (
    SELECT di.image_id,
           ROW_NUMBER() OVER (
             PARTITION BY di.device_id, di.image_name
             ORDER BY
               CASE di.status
                 WHEN 'complete' THEN 1
                 WHEN 'receiving' THEN 2
                 WHEN 'pending' THEN 3
                 WHEN 'failed' THEN 4
                 ELSE 5
               END,
               di.updated_at DESC NULLS LAST,
               di.received_chunks DESC NULLS LAST,
               di.captured_at DESC NULLS LAST,
               di.image_id
           ) AS rank
    FROM device_images di
    WHERE (di.device_id, di.image_name) IN (
      SELECT device_id, image_name FROM device_images GROUP BY device_id, image_name HAVING count(*) > 1
    )
  ) AS ranked
  WHERE rank > 1;

  -- Back up first, all columns.
  INSERT INTO device_images_duplicates_backup (
    image_id, device_id, company_id, program_id, site_id, image_name, image_url, image_size, captured_at,
    received_at, total_chunks, received_chunks, status, error_code, retry_count, metadata, created_at, updated_at
  )
  SELECT di.image_id, di.device_id, di.company_id, di.program_id, di.site_id, di.image_name, di.image_url,
         di.image_size, di.captured_at, di.received_at, di.total_chunks, di.received_chunks, di.status,
         di.error_code, di.retry_count, di.metadata, di.created_at, di.updated_at
  FROM device_images di
  JOIN camfleet_cleanup_doomed d ON d.image_id = di.image_id;
  GET DIAGNOSTICS v_backed_up = ROW_COUNT;

  -- Then delete exactly the rows just backed up.
  DELETE FROM device_images di USING camfleet_cleanup_doomed d WHERE di.image_id = d.image_id;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  IF v_deleted <> v_backed_up THEN
    RAISE EXCEPTION 'cleanup aborted: backed up % rows but would delete % (nothing was changed)', v_backed_up, v_deleted;
  END IF;
  RAISE NOTICE 'Deleted % duplicate image records', v_deleted;
  RAISE NOTICE 'Duplicates backed up to device_images_duplicates_backup table';

  -- Then verify.
  SELECT count(*) INTO v_remaining
  FROM (SELECT 1 FROM device_images GROUP BY device_id, image_name HAVING count(*) > 1) AS g;
  IF v_remaining > 0 THEN
    RAISE EXCEPTION 'cleanup failed: % duplicate groups remain (nothing was changed)', v_remaining;
  END IF;
  RAISE NOTICE '✓ All duplicates cleaned up successfully';
  RAISE NOTICE '✓ Ready to apply IMAGE_RESUME_MIGRATION.sql';
END $$;

COMMIT;
