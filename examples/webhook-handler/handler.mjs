#!/usr/bin/env node
// An example webhook handler in the shape of the original system's edge function (PROTOCOL.md §7.2): camfleet's
// forwarder POSTs every device message to it as {"topic": "...", "payload": "<the device's JSON as text>"}. It
// writes the device_images row of each metadata message; chunks and status messages are the service's (it stores
// the chunks and sends the ACKs): answered 200 and ignored.
//
//   node examples/webhook-handler/handler.mjs --mode legacy|correct [--window-ms 200]
//   environment: DATABASE_URL (Postgres), PORT (where to listen, on 127.0.0.1)
//
// --mode legacy: what the original did — SELECT the row by (device, image_name), then the slow work in between
//   (--window-ms, the original's window widened by its 5 s timeout), then INSERT if none was found. Two writers
//   that both read before either wrote both insert: duplicate rows (I1) on a schema without the unique key.
// --mode correct: INSERT … ON CONFLICT (device_id, image_name) DO NOTHING (needs the resume migration's unique
//   key), and a repeated delivery of the same message is a success (200): the handler is idempotent, so the
//   forwarder's retries, timeouts and duplicates do no harm.
// A database error is answered 500 (the forwarder retries it); a request that is not {topic, payload} 400.
import http from 'node:http';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: { mode: { type: 'string' }, 'window-ms': { type: 'string', default: '200' } },
});
const mode = values.mode;
if (mode !== 'legacy' && mode !== 'correct') {
  console.error('usage: handler.mjs --mode legacy|correct [--window-ms N]');
  process.exit(2);
}
const windowMs = Number(values['window-ms']);
if (!Number.isInteger(windowMs) || windowMs < 0) {
  console.error(`--window-ms must be a whole number ≥ 0, got ${values['window-ms']}`);
  process.exit(2);
}
const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
if (!databaseUrl || !Number.isInteger(port) || port <= 0) {
  console.error('handler.mjs needs DATABASE_URL and PORT in its environment');
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: 8, application_name: `webhook-handler-${mode}` });
pool.on('error', (error) => console.error(`pool: ${error.message}`));

/** The same lock key as camfleet's pipeline (harness/pipeline/store/devices.ts), so device codes never collide. */
const DEVICE_CODE_LOCK = 0x63616d66;
const NORMALISED_MAC = `upper(translate(d.device_mac, ':- ', ''))`;
const TOPIC = /^(ESP32CAM|device)\/([^/]+)\/(status|data|cmd|ack)$/;

/** PROTOCOL.md §1: 12 hex digits once `:`, `-` and spaces are gone, upper case. */
function normaliseMac(raw) {
  const mac = String(raw)
    .replace(/[:\- ]/g, '')
    .toUpperCase();
  return /^[0-9A-F]{12}$/.test(mac) ? mac : null;
}

/** PROTOCOL.md §3: metadata has a total chunk count and no chunk_id (either dialect's field names). */
function metadataOf(message) {
  if (typeof message !== 'object' || message === null || 'chunk_id' in message) return null;
  const totalChunks = message.total_chunk_count ?? message.total_chunks_count;
  if (totalChunks === undefined) return null;
  return {
    imageName: message.image_name,
    timestamp: message.timestamp ?? message.capture_timestamp ?? message.capture_timeStamp,
    imageSize: message.image_size,
    totalChunks,
    chunkSize: message.max_chunk_size ?? message.max_chunks_size,
  };
}

/** The device's time, padded or not (`2026-1-4 9:5:7`), in UTC; outside 2020–2100 (a failed NTP sync) the server's. */
function capturedAt(timestamp) {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2}):(\d{1,2})/.exec(String(timestamp ?? ''));
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
    const ms = Date.UTC(y, mo - 1, d, h, mi, s);
    if (y >= 2020 && y <= 2100 && !Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  return new Date().toISOString();
}

/** The device's id, auto-provisioned like the pipeline does (pending_mapping, first free DEVICE-ESP32S3-NNN). */
async function deviceIdOf(mac) {
  const found = await pool.query(
    `SELECT d.device_id::text AS id FROM devices d WHERE ${NORMALISED_MAC} = $1 ORDER BY d.created_at LIMIT 1`,
    [mac],
  );
  if (found.rows[0]) return found.rows[0].id;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [DEVICE_CODE_LOCK]);
    await client.query(
      `INSERT INTO devices (device_mac, device_code, provisioning_status, is_active, last_seen_at)
       SELECT $1, 'DEVICE-ESP32S3-' || lpad(n::text, greatest(3, length(n::text)), '0'), 'pending_mapping', false, now()
       FROM generate_series(1, (SELECT count(*) FROM devices)::int + 1) AS n
       WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.device_code = 'DEVICE-ESP32S3-' || lpad(n::text, greatest(3, length(n::text)), '0'))
         AND NOT EXISTS (SELECT 1 FROM devices d WHERE ${NORMALISED_MAC} = $1)
       ORDER BY n LIMIT 1
       ON CONFLICT (device_mac) DO NOTHING`,
      [mac],
    );
    const again = await client.query(
      `SELECT d.device_id::text AS id FROM devices d WHERE ${NORMALISED_MAC} = $1 ORDER BY d.created_at LIMIT 1`,
      [mac],
    );
    await client.query('COMMIT');
    return again.rows[0].id;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The row's values, as the service writes them (harness/pipeline/store/legacy.ts insertImageRow). */
function rowValues(deviceId, mac, meta) {
  const metadata = {
    device_id: mac,
    timestamp: meta.timestamp,
    image_name: meta.imageName,
    image_size: meta.imageSize,
    max_chunk_size: meta.chunkSize,
    total_chunk_count: meta.totalChunks,
    written_by: `webhook-handler ${mode}`,
  };
  return [
    deviceId,
    meta.imageName,
    meta.imageSize,
    capturedAt(meta.timestamp),
    meta.totalChunks,
    JSON.stringify(metadata),
  ];
}

const INSERT = `INSERT INTO device_images (device_id, company_id, program_id, site_id, image_name, image_size,
                                           captured_at, total_chunks, received_chunks, status, metadata)
                SELECT d.device_id, d.company_id, d.program_id, d.site_id, $2, $3, $4, $5, 0, 'receiving', $6::jsonb
                FROM devices d WHERE d.device_id = $1`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The original edge function: look, do the slow work, insert if the look found nothing. */
async function legacyWrite(deviceId, mac, meta) {
  const existing = await pool.query(
    'SELECT image_id FROM device_images WHERE device_id = $1 AND image_name = $2 LIMIT 1',
    [deviceId, meta.imageName],
  );
  if (windowMs > 0) await sleep(windowMs);
  if (existing.rows.length > 0) return 'found';
  await pool.query(INSERT, rowValues(deviceId, mac, meta));
  return 'inserted';
}

/** Idempotent: the unique key decides, and a row already there (a repeated delivery) is a success. */
async function correctWrite(deviceId, mac, meta) {
  const r = await pool.query(
    `${INSERT} ON CONFLICT ON CONSTRAINT device_images_device_id_image_name_key DO NOTHING`,
    rowValues(deviceId, mac, meta),
  );
  return r.rowCount === 1 ? 'inserted' : 'already there';
}

async function handle(body) {
  let message;
  try {
    message = JSON.parse(body);
  } catch {
    return [400, { error: 'the body is not JSON' }];
  }
  if (typeof message?.topic !== 'string' || typeof message?.payload !== 'string')
    return [400, { error: 'expected {"topic": string, "payload": string}' }];
  const topic = TOPIC.exec(message.topic);
  if (!topic || topic[3] !== 'data') return [200, { ignored: 'not a data message' }];
  const mac = normaliseMac(topic[2]);
  let payload;
  try {
    // Devices and test tools sent smart quotes; the original replaced them before parsing (PROTOCOL.md §2).
    payload = JSON.parse(message.payload.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'"));
  } catch {
    return [200, { ignored: 'payload is not JSON (the service records it)' }];
  }
  const meta = metadataOf(payload);
  if (meta === null) return [200, { ignored: 'not metadata (the service stores chunks and sends ACKs)' }];
  if (mac === null || typeof meta.imageName !== 'string' || !Number.isInteger(meta.imageSize))
    return [200, { ignored: 'metadata the service refuses' }];
  const deviceId = await deviceIdOf(mac);
  const outcome = mode === 'legacy' ? await legacyWrite(deviceId, mac, meta) : await correctWrite(deviceId, mac, meta);
  return [200, { image_name: meta.imageName, outcome }];
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    handle(body).then(
      ([status, answer]) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
      (error) => {
        console.error(`database error: ${error.message}`);
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message }));
      },
    );
  });
});

server.listen(port, '127.0.0.1', () => console.log(`webhook handler (${mode}) listening on 127.0.0.1:${port}`));

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  pool.end().finally(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
