// `npm run bench:migrate`: times the cleanup step (schema/002_cleanup.sql) on 1,000,000 device_images rows with
// 50,000 duplicate groups, on the embedded database (or DATABASE_URL, in a scratch database), and prints rows/s.
// Target (issue 2): under 60 s. Options: --rows N --groups N.
import pg from 'pg';
import { parseArgs } from 'node:util';
import { createScratchDatabase } from '../harness/db/scratch-database.ts';
import { openDatabaseServer } from '../harness/db/server.ts';
import { applyStep } from '../schema/runner.ts';
import { schemaSteps } from '../schema/steps.ts';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, groups: { type: 'string', default: '50000' } },
});
const totalRows = Number(values.rows);
const groups = Number(values.groups);
const copiesPerGroup = 2;
if (!Number.isInteger(totalRows) || !Number.isInteger(groups) || groups * copiesPerGroup > totalRows || groups < 0) {
  console.error('usage: npm run bench:migrate -- [--rows N] [--groups G]   (needs 2·G ≤ N)');
  process.exit(2);
}
const step = (stage: string) => schemaSteps.find((s) => s.stage === stage)!;
const seconds = (ms: number) => (ms / 1000).toFixed(2);

const server = await openDatabaseServer({ databaseUrl: process.env.DATABASE_URL });
const db = await createScratchDatabase(server, 'bench_migrate');
const client = new pg.Client({ connectionString: db.url });
await client.connect();
try {
  console.log(
    `server: ${server.kind} (${server.address}); ${totalRows.toLocaleString()} rows, ${groups.toLocaleString()} duplicate groups of ${copiesPerGroup}`,
  );
  await applyStep(client, step('base'));
  let t = Date.now();
  // 1,000 devices; unique names fill the table, then each duplicate group gets a second copy of an existing name
  // with a random status and updated_at (NULL one time in ten), as the production duplicates had.
  await client.query(`INSERT INTO devices (device_mac, device_code)
                      SELECT upper(lpad(to_hex(i), 12, '0')), 'DEVICE-ESP32S3-' || lpad(i::text, 4, '0')
                      FROM generate_series(1, 1000) AS i`);
  const uniqueRows = totalRows - groups;
  await client.query(
    `INSERT INTO device_images (device_id, image_name, image_size, captured_at, total_chunks, received_chunks, status, updated_at)
     SELECT d.device_id, 'image_' || (i / 1000) || '.jpg', 70000, timestamptz '2026-01-01' + i * interval '1 second', 70,
            70, 'complete', timestamptz '2026-01-01' + i * interval '1 second'
     FROM generate_series(0, $1::int - 1) AS i
     JOIN (SELECT device_id, row_number() OVER (ORDER BY device_code) - 1 AS k FROM devices) AS d ON d.k = i % 1000`,
    [uniqueRows],
  );
  await client.query(
    `INSERT INTO device_images (device_id, image_name, image_size, captured_at, total_chunks, received_chunks, status, updated_at)
     SELECT device_id, image_name, image_size, captured_at, total_chunks, (random() * 70)::int,
            (ARRAY['complete','receiving','pending','failed'])[1 + (random() * 3)::int],
            CASE WHEN random() < 0.1 THEN NULL ELSE updated_at + (random() * 100)::int * interval '1 minute' END
     FROM device_images
     ORDER BY image_id
     LIMIT $1`,
    [groups],
  );
  await client.query('ANALYZE device_images');
  console.log(`loaded in ${seconds(Date.now() - t)} s`);

  t = Date.now();
  const notices: string[] = [];
  await applyStep(client, step('cleanup'), (n) => notices.push(n.message));
  const cleanupMs = Date.now() - t;
  for (const n of notices) console.log(`NOTICE:  ${n}`);
  const left = (await client.query<{ n: string }>('SELECT count(*) AS n FROM device_images')).rows[0]?.n;
  t = Date.now();
  await applyStep(client, step('resume'));
  const resumeMs = Date.now() - t;
  console.log(`rows after cleanup: ${left}`);
  console.log(
    `cleanup: ${seconds(cleanupMs)} s for ${totalRows.toLocaleString()} rows = ${Math.round(totalRows / (cleanupMs / 1000)).toLocaleString()} rows/s (target: under 60 s)`,
  );
  console.log(`resume migration: ${seconds(resumeMs)} s`);
} finally {
  await client.end();
  await db.drop();
  await server.stop();
}
process.exit(0);
