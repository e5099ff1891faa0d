// The example webhook handler (handler.mjs) as the forwarder meets it: a real process on a free port over a real
// database. legacy: two deliveries of one metadata message at once both find no row and both insert (the original
// select-then-insert race, its window made explicit with --window-ms); correct: the same two deliveries leave one
// row and are both answered 200. Chunks are ignored, a bad body is a 400 and a database error a 500.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ScratchDatabase } from '../../harness/db/scratch-database.ts';
import { waitForPort } from '../../harness/run/external-service.ts';
import { freePort } from '../../harness/world/free-port.ts';
import { newPool, primaryTarget, scratchDatabase } from '../../test/databases.ts';
import { resetToStage } from '../../test/schema-fixture.ts';

const handlerPath = fileURLToPath(new URL('./handler.mjs', import.meta.url));
const MAC = 'B8F862F9C1C4';
const TOPIC = `ESP32CAM/${MAC}/data`;
const meta = (imageName: string) =>
  JSON.stringify({
    device_id: MAC,
    timestamp: '2026-01-14T10:00:00Z',
    image_name: imageName,
    image_id: 3,
    image_size: 2048,
    max_chunks_size: 1024,
    total_chunk_count: 2,
    sensor_data: { temperature: 22.5 },
  });

interface Handler {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startHandler(db: ScratchDatabase, args: string[]): Promise<Handler> {
  const port = await freePort();
  const child = spawn(process.execPath, [handlerPath, ...args], {
    env: { ...process.env, DATABASE_URL: db.url, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await waitForPort(port, 20_000, undefined, exited);
  return { url: `http://127.0.0.1:${port}/`, child };
}

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, answer: (await res.json()) as Record<string, unknown> };
};

const server = primaryTarget().server;
let base: ScratchDatabase;
let resume: ScratchDatabase;
const handlers: Handler[] = [];

beforeAll(async () => {
  if (server === null) throw new Error('no database server');
  base = await scratchDatabase(server, 'webhook-handler-base');
  resume = await scratchDatabase(server, 'webhook-handler-resume');
  for (const [db, stage] of [
    [base, 'base'],
    [resume, 'pipeline'],
  ] as const) {
    const pool = newPool(db.url, 1);
    const client = await pool.connect();
    await resetToStage(client, stage);
    client.release();
    await pool.end();
  }
});

afterAll(async () => {
  for (const h of handlers) h.child.kill('SIGTERM');
  await base?.drop();
  await resume?.drop();
});

async function rows(db: ScratchDatabase, imageName: string): Promise<{ status: string; timestamp: string }[]> {
  const pool = newPool(db.url, 1);
  try {
    const r = await pool.query<{ status: string; timestamp: string }>(
      `SELECT di.status, di.metadata ->> 'timestamp' AS timestamp FROM device_images di
       JOIN devices d ON d.device_id = di.device_id WHERE d.device_mac = $1 AND di.image_name = $2`,
      [MAC, imageName],
    );
    return r.rows;
  } finally {
    await pool.end();
  }
}

describe('example webhook handler', () => {
  test('legacy: two deliveries of one metadata message at once both insert (the select-then-insert race)', async () => {
    // The window (1 s) is what makes both reads come before either write, on any machine.
    const h = await startHandler(base, ['--mode', 'legacy', '--window-ms', '1000']);
    handlers.push(h);
    const body = { topic: TOPIC, payload: meta('image_1.jpg') };
    const answers = await Promise.all([post(h.url, body), post(h.url, body)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const stored = await rows(base, 'image_1.jpg');
    expect(stored).toHaveLength(2);
    expect(stored[0]).toEqual({ status: 'receiving', timestamp: '2026-01-14T10:00:00Z' });
    // One after the other (no overlap) the second finds the first's row: one row.
    await post(h.url, { topic: TOPIC, payload: meta('image_2.jpg') });
    await post(h.url, { topic: TOPIC, payload: meta('image_2.jpg') });
    expect(await rows(base, 'image_2.jpg')).toHaveLength(1);
  });

  test('correct: the same two deliveries leave one row, both answered 200; the spec dialect too', async () => {
    const h = await startHandler(resume, ['--mode', 'correct']);
    handlers.push(h);
    const body = { topic: TOPIC, payload: meta('image_1.jpg') };
    const answers = await Promise.all([post(h.url, body), post(h.url, body), post(h.url, body)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.answer.outcome).sort()).toEqual(['already there', 'already there', 'inserted']);
    expect(await rows(resume, 'image_1.jpg')).toHaveLength(1);
    const spec = JSON.stringify({
      device_id: MAC,
      capture_timestamp: '2026-1-4 9:5:7',
      image_name: 'image_2.jpg',
      image_size: 100,
      max_chunk_size: 1024,
      total_chunks_count: 1,
    });
    expect((await post(h.url, { topic: `device/${MAC}/data`, payload: spec })).answer.outcome).toBe('inserted');
    expect(await rows(resume, 'image_2.jpg')).toEqual([{ status: 'receiving', timestamp: '2026-1-4 9:5:7' }]);
  });

  test('chunks and status are ignored (200), a body that is not {topic, payload} is a 400, a database error a 500', async () => {
    // correct mode on the base stage: no unique key for its ON CONFLICT, so every metadata write fails.
    const h = await startHandler(base, ['--mode', 'correct']);
    handlers.push(h);
    const chunk = JSON.stringify({ device_id: MAC, image_name: 'image_1.jpg', chunk_id: 0, payload: '/9j/' });
    expect((await post(h.url, { topic: TOPIC, payload: chunk })).status).toBe(200);
    expect((await post(h.url, { topic: `ESP32CAM/${MAC}/status`, payload: '{}' })).status).toBe(200);
    expect((await post(h.url, 'not json')).status).toBe(400);
    expect((await post(h.url, { topic: TOPIC })).status).toBe(400);
    expect((await post(h.url, { topic: TOPIC, payload: meta('image_9.jpg') })).status).toBe(500);
  });
});
