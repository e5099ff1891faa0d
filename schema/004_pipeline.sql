-- camfleet schema step 4: pipeline  (camfleet's reference ingestion pipeline; applies after 003_resume.sql)
-- The durable chunk store that makes resume survive a pipeline restart and hours between wakes (the original kept
-- chunks in process memory and later in a 30-minute buffer, PROTOCOL.md §7.3, §7.6), the assembled image bytes,
-- the routing of a device's wire image name to its image row, the ACK_OKs owed across a crash, and the record of
-- every rejected message.
-- Pasteable unchanged into the Supabase SQL editor; idempotent; one transaction.

BEGIN;

-- One row per stored chunk; idempotent per (image, chunk_id). received_chunks of device_images counts these rows.
CREATE TABLE IF NOT EXISTS image_chunks (
  image_id uuid NOT NULL REFERENCES device_images (image_id) ON DELETE CASCADE,
  chunk_id integer NOT NULL CHECK (chunk_id >= 0),
  bytes bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, chunk_id)
);

-- The assembled, verified image. device_images.image_url points here: camfleet-blob://image_blobs/<image_id>.
CREATE TABLE IF NOT EXISTS image_blobs (
  image_id uuid PRIMARY KEY REFERENCES device_images (image_id) ON DELETE CASCADE,
  bytes bytea NOT NULL,
  sha256 text NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now()
);

-- Which image row the chunks of a device's current transfer of `wire_name` go to. Usually the row of that name;
-- after a flash-counter reset it is a disambiguated row for the new capture (ARCHITECTURE.md §3, name reuse).
-- Durable, so chunks arriving after a pipeline restart still find their image.
CREATE TABLE IF NOT EXISTS image_transfers (
  device_id uuid NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
  wire_name text NOT NULL,
  image_id uuid NOT NULL REFERENCES device_images (image_id) ON DELETE CASCADE,
  capture_timestamp text NOT NULL,
  image_size integer NOT NULL,
  total_chunks integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, wire_name)
);

-- ACK_OKs owed: a row is written in the transaction that completes an image and deleted once the broker has taken
-- the ACK_OK. A pipeline that crashed between the two sends what is owed when it starts again, so a device still
-- waiting gets its ACK instead of waiting out its ACK timeout and re-sending the whole image. The ACK still only
-- ever follows the commit (ARCHITECTURE.md §3 I7). Only recent rows whose transfer route still names the image are
-- sent; the rest are deleted (a v3.5.0 ACK_OK names only the image: a late one could dequeue a newer capture under
-- a reused name).
CREATE TABLE IF NOT EXISTS image_acks_owed (
  image_id uuid PRIMARY KEY REFERENCES device_images (image_id) ON DELETE CASCADE,
  device_mac text NOT NULL,
  wire_name text NOT NULL,
  dialect text NOT NULL,
  next_wake_at timestamptz,
  owed_since timestamptz NOT NULL DEFAULT now()
);

-- Every message the pipeline refused, with its reason: bad input is recorded, never silently dropped.
CREATE TABLE IF NOT EXISTS rejected_messages (
  rejection_id bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  topic text NOT NULL,
  device_mac text,
  code text NOT NULL,
  reason text NOT NULL,
  payload_bytes integer NOT NULL,
  payload_excerpt text
);
CREATE INDEX IF NOT EXISTS idx_rejected_messages_code ON rejected_messages (code);
-- How many refusals the row stands for: 1, or, for a device past the pipeline's cap of rows per minute, the
-- refusals of that minute (same topic and code) it counted instead of storing one by one (a flood of junk must not
-- fill the table).
ALTER TABLE rejected_messages ADD COLUMN IF NOT EXISTS messages integer NOT NULL DEFAULT 1 CHECK (messages >= 1);

DO $$
BEGIN
  RAISE NOTICE 'camfleet pipeline tables ready (image_chunks, image_blobs, image_transfers, image_acks_owed, rejected_messages)';
END $$;

COMMIT;
