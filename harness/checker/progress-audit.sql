-- camfleet checker: progress audit (invariant I4, ARCHITECTURE.md §3 "received_chunks never goes back").
-- Installed by the harness BEFORE a run; records every way progress can be lost, so the checker only has to read
-- this table and never relies on the pipeline's own account of what it did:
--   'lowered'        an UPDATE of device_images lowering received_chunks (a NULL counts as 0, so NULL is a loss);
--   'row_deleted'    a DELETE of a device_images row that had progress (received_chunks > 0) — a resume that deletes
--                    the row and re-inserts it at 0 never UPDATEs it. The cleanup migration's deletes are legitimate
--                    (schema/002_cleanup.sql backs each row up into device_images_duplicates_backup in the same
--                    transaction, just before deleting it): a deleted row found in that backup is not recorded;
--   'chunks_deleted' a DELETE of image_chunks rows while their image row still exists and is not complete — the count
--                    kept while the chunks behind it are gone. (Chunks cascading from a deleted image row are not
--                    recorded here: the row is gone first, and its delete is judged above. Chunks of a complete
--                    image may be pruned: its bytes are in image_blobs, which I3 checks.)
-- Works from the base stage on (needs only device_images; the chunk trigger only where image_chunks exists).
-- Pasteable unchanged into the Supabase SQL editor; idempotent; one transaction.

BEGIN;

CREATE TABLE IF NOT EXISTS camfleet_progress_audit (
  audit_id bigserial PRIMARY KEY,
  image_id uuid NOT NULL,
  old_received_chunks integer,
  new_received_chunks integer,
  old_status text,
  new_status text,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Added after the first release: an audit table installed by an older camfleet gains them.
ALTER TABLE camfleet_progress_audit ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'lowered';
ALTER TABLE camfleet_progress_audit ADD COLUMN IF NOT EXISTS chunks_deleted integer;
-- A deleted row's device and name, which the checker can no longer join from device_images.
ALTER TABLE camfleet_progress_audit ADD COLUMN IF NOT EXISTS device_id uuid;
ALTER TABLE camfleet_progress_audit ADD COLUMN IF NOT EXISTS image_name text;

CREATE OR REPLACE FUNCTION camfleet_progress_audit_record() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
  INSERT INTO camfleet_progress_audit (image_id, old_received_chunks, new_received_chunks, old_status, new_status,
                                       kind, device_id, image_name)
  VALUES (NEW.image_id, OLD.received_chunks, NEW.received_chunks, OLD.status, NEW.status,
          'lowered', NEW.device_id, NEW.image_name);
  RETURN NULL;
END;
$fn$;

CREATE OR REPLACE FUNCTION camfleet_progress_audit_row_deleted() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
  backed_up boolean := false;
BEGIN
  -- The backup table exists only from the cleanup step on, hence the dynamic query.
  IF to_regclass('device_images_duplicates_backup') IS NOT NULL THEN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM device_images_duplicates_backup WHERE image_id = $1)'
      INTO backed_up USING OLD.image_id;
  END IF;
  IF NOT backed_up THEN
    INSERT INTO camfleet_progress_audit (image_id, old_received_chunks, new_received_chunks, old_status, new_status,
                                         kind, device_id, image_name)
    VALUES (OLD.image_id, OLD.received_chunks, NULL, OLD.status, NULL, 'row_deleted', OLD.device_id, OLD.image_name);
  END IF;
  RETURN NULL;
END;
$fn$;

CREATE OR REPLACE FUNCTION camfleet_progress_audit_chunks_deleted() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
  INSERT INTO camfleet_progress_audit (image_id, old_received_chunks, new_received_chunks, old_status, new_status,
                                       kind, chunks_deleted, device_id, image_name)
  SELECT g.image_id, di.received_chunks, di.received_chunks, di.status, di.status, 'chunks_deleted', g.n,
         di.device_id, di.image_name
  FROM (SELECT image_id, count(*)::int AS n FROM camfleet_gone_chunks GROUP BY image_id) AS g
  JOIN device_images di ON di.image_id = g.image_id
  WHERE di.status IS DISTINCT FROM 'complete';
  RETURN NULL;
END;
$fn$;

-- DROP + CREATE rather than CREATE OR REPLACE TRIGGER, which needs Postgres 14.
DROP TRIGGER IF EXISTS camfleet_progress_audit_trigger ON device_images;
CREATE TRIGGER camfleet_progress_audit_trigger
  AFTER UPDATE ON device_images
  FOR EACH ROW
  WHEN (COALESCE(NEW.received_chunks, 0) < COALESCE(OLD.received_chunks, 0))
  EXECUTE FUNCTION camfleet_progress_audit_record();

DROP TRIGGER IF EXISTS camfleet_progress_audit_delete_trigger ON device_images;
CREATE TRIGGER camfleet_progress_audit_delete_trigger
  AFTER DELETE ON device_images
  FOR EACH ROW
  WHEN (COALESCE(OLD.received_chunks, 0) > 0)
  EXECUTE FUNCTION camfleet_progress_audit_row_deleted();

-- image_chunks is camfleet's pipeline table (schema/004_pipeline.sql); an external pipeline may not have it.
DO $do$
BEGIN
  IF to_regclass('image_chunks') IS NOT NULL THEN
    DROP TRIGGER IF EXISTS camfleet_progress_audit_chunks_trigger ON image_chunks;
    -- One statement-level trigger with the deleted rows as a transition table: one audit row per image, not per
    -- chunk.
    CREATE TRIGGER camfleet_progress_audit_chunks_trigger
      AFTER DELETE ON image_chunks
      REFERENCING OLD TABLE AS camfleet_gone_chunks
      FOR EACH STATEMENT
      EXECUTE FUNCTION camfleet_progress_audit_chunks_deleted();
  END IF;
END
$do$;

COMMIT;
