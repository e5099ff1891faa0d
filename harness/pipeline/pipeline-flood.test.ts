// A flood of junk from one client (issue 11: a 0.2 s flood added 1,638 rejected_messages rows and as many log
// lines): past the cap per device per minute the refusals are counted, not stored one by one, the log says how many
// it left out, nothing is lost (the rows stand for every refusal), and the pipeline still stores a valid image.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Pipeline } from './index.ts';
import { imagesOf, makeImage, newHistory, openTestWorld, TestDevice, until, type TestWorld } from './test-support.ts';

const FLOODER = 'AABBCCDDEEFF';
const GOOD = 'B8F862F9C1C4';
const FLOOD = 600;
let world: TestWorld;
let pipeline: Pipeline;

beforeAll(async () => {
  world = await openTestWorld('pipeline_flood');
  pipeline = await world.pipeline({
    history: newHistory(),
    rejectionLimits: { rowsPerDeviceMinute: 20, logLinesPerMinute: 10 },
  });
});
afterAll(async () => {
  await world?.close();
});

describe('a flood of junk', () => {
  test('bounded rows and log lines, every refusal counted, a good device unharmed', { timeout: 60_000 }, async () => {
    const flooder = await TestDevice.connect(world.broker.url, FLOODER);
    const good = await TestDevice.connect(world.broker.url, GOOD);
    try {
      for (let i = 0; i < FLOOD; i++)
        await flooder.publishRaw(`ESP32CAM/${FLOODER}/data`, i % 2 === 0 ? `{junk ${i}` : '');
      const img = makeImage(7, 8_000, 'image_1.jpg');
      await good.sendImage(img);
      await good.waitForAck('image_1.jpg');
      await until(() => pipeline.stats().rejected >= FLOOD, 20_000);
      await pipeline.idle(); // the counted refusals are written when the pipeline is idle (and at stop)
      const { rows } = await world.db.query<{ code: string; rows: number; messages: number }>(
        `SELECT code, count(*)::int AS rows, sum(messages)::int AS messages FROM rejected_messages
         WHERE device_mac = $1 GROUP BY code ORDER BY code`,
        [FLOODER],
      );
      const stored = rows.reduce((n, r) => n + r.rows, 0);
      const counted = rows.reduce((n, r) => n + r.messages, 0);
      expect(counted).toBe(FLOOD); // nothing lost
      expect(stored).toBeLessThanOrEqual(20 + rows.length); // 20 one by one, one counting row per code
      expect(pipeline.stats().rejectedCounted).toBe(FLOOD - 20);
      const rejectLines = world.logs.filter((l) => l.includes('rejected') && l.includes(FLOODER));
      expect(rejectLines.length).toBeLessThanOrEqual(10);
      // How many lines were left out is said when the minute is over, or at stop.
      await world.stopPipelines();
      expect(world.logs.join('\n')).toMatch(/pipeline: \d+ more rejections in a minute not logged/);
      expect((await imagesOf(world.db, GOOD)).map((r) => r.status)).toEqual(['complete']);
    } finally {
      await flooder.end();
      await good.end();
    }
  });
});
