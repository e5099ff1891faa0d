-- camfleet checker: progress audit (invariant I4, ARCHITECTURE.md §3 "received_chunks never goes back").
-- Installed by the harness BEFORE a run; records every UPDATE of device_images that lowers received_chunks (a NULL
-- counts as 0, so setting it to NULL is a loss too). The checker then only has to read this table: it never relies
-- on the pipeline's own account of what it did. Works from the base stage on (needs only device_images).
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

CREATE OR REPLACE FUNCTION camfleet_progress_audit_record() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
  INSERT INTO camfleet_progress_audit (image_id, old_received_chunks, new_received_chunks, old_status, new_status)
  VALUES (NEW.image_id, OLD.received_chunks, NEW.received_chunks, OLD.status, NEW.status);
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

COMMIT;
