-- camfleet schema step 1: base
-- The schema as it stood BEFORE the image-resume migration (PROTOCOL.md §6): minimal companies, pilot programs
-- and sites, devices, and device_images with only a NON-unique index on (device_id, image_name) — nothing stops
-- duplicate rows, which is how production accumulated them.
-- Pasteable unchanged into the Supabase SQL editor; idempotent (IF NOT EXISTS everywhere).

CREATE TABLE IF NOT EXISTS companies (
  company_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS pilot_programs (
  program_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid REFERENCES companies (company_id),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sites (
  site_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  program_id uuid REFERENCES pilot_programs (program_id),
  company_id uuid REFERENCES companies (company_id),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS devices (
  device_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  device_mac text UNIQUE NOT NULL,
  device_code text UNIQUE,
  device_name text,
  company_id uuid REFERENCES companies (company_id),
  program_id uuid REFERENCES pilot_programs (program_id),
  site_id uuid REFERENCES sites (site_id),
  provisioning_status text NOT NULL DEFAULT 'pending_mapping',
  is_active boolean NOT NULL DEFAULT false,
  firmware_version text,
  hardware_version text,
  last_seen_at timestamptz,
  next_wake_at timestamptz,
  battery_voltage numeric,
  wifi_rssi integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS device_images (
  image_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  device_id uuid NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
  company_id uuid REFERENCES companies (company_id),
  program_id uuid REFERENCES pilot_programs (program_id),
  site_id uuid REFERENCES sites (site_id),
  image_name text NOT NULL,
  image_url text,
  image_size integer,
  captured_at timestamptz NOT NULL,
  received_at timestamptz,
  total_chunks integer,
  received_chunks integer DEFAULT 0,
  status text DEFAULT 'pending' CONSTRAINT device_images_status_check
    CHECK (status IN ('pending', 'receiving', 'complete', 'failed')),
  error_code integer DEFAULT 0,
  retry_count integer DEFAULT 0,
  metadata jsonb,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now()
);

-- Only a NON-unique index before the migration (PROTOCOL.md §6).
CREATE INDEX IF NOT EXISTS idx_device_images_device_name ON device_images (device_id, image_name);
