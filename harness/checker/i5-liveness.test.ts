import { describe, expect, test } from 'vitest';
import { checkLiveness } from './i5-liveness.ts';
import { runFacts } from './run-facts.ts';
import {
  appendCleanRun,
  cleanWorld,
  imageOf,
  newHistory,
  planWorld,
  resetDatabase,
  standardCaptures,
  storeWorld,
  useScratchClient,
} from './test-world.ts';

describe('I5 liveness', () => {
  const client = useScratchClient('checker_i5');

  test('passes when every capture is complete, every queue empty, no row in flight', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const v = await checkLiveness(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I5', verdict: 'pass', offendingCount: 0 });
    expect(v.summary).toContain('4 captures all stored complete, 2 final queues empty');
  });

  test('fails on a row left receiving (and the capture it holds not complete)', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const image = imageOf(world, 3);
    await client().query(`UPDATE device_images SET status = 'receiving', received_chunks = 2 WHERE image_id = $1`, [
      image.imageId,
    ]);
    const v = await checkLiveness(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'capture_not_stored', sha256: image.record.sha256 }),
        expect.objectContaining({
          kind: 'row_in_flight',
          imageId: image.imageId,
          status: 'receiving',
          receivedChunks: 2,
        }),
      ]),
    );
  });

  test('fails on a non-empty final queue', async () => {
    await resetDatabase(client(), 'pipeline');
    const world = planWorld(standardCaptures);
    await storeWorld(client(), world);
    const history = appendCleanRun(newHistory(), world, { final: false });
    history.append({ type: 'device_final', mac: 'B8F862F9C1C4', queued: [] });
    history.append({ type: 'device_final', mac: '98A316F82928', queued: ['image_2.jpg'] });
    const v = await checkLiveness(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([{ kind: 'queue_not_empty', mac: '98A316F82928', queued: ['image_2.jpg'] }]);
  });

  test('fails when a captured image was never stored, even if the device never sent it', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const lost = planWorld([{ mac: '98A316F82928', imageName: 'image_2.jpg', sizeBytes: 2222 }]).images[0]!;
    history.append({ type: 'device_captured', capture: lost.record });
    const v = await checkLiveness(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      expect.objectContaining({ kind: 'capture_not_stored', mac: '98A316F82928', imageName: 'image_2.jpg' }),
    ]);
  });

  test('a capture the device lost itself (torn SD write) may be absent', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const lost = planWorld([{ mac: '98A316F82928', imageName: 'image_2.jpg', sizeBytes: 2222 }]).images[0]!;
    history.append({ type: 'device_captured', capture: lost.record });
    history.append({
      type: 'device_lost_capture',
      mac: lost.record.mac,
      imageName: 'image_2.jpg',
      sha256: lost.record.sha256,
    });
    const v = await checkLiveness(client(), runFacts(history.events));
    expect(v.verdict).toBe('pass');
  });

  test('unknown when the history has no device_final (the run never reached its end)', async () => {
    const { history } = await cleanWorld(client(), standardCaptures, { final: false });
    const v = await checkLiveness(client(), runFacts(history.events));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('device_final');
  });

  test('unknown when one device has no device_final, nothing else wrong', async () => {
    await resetDatabase(client(), 'pipeline');
    const world = planWorld(standardCaptures);
    await storeWorld(client(), world);
    const history = appendCleanRun(newHistory(), world, { final: false });
    history.append({ type: 'device_final', mac: 'B8F862F9C1C4', queued: [] });
    const v = await checkLiveness(client(), runFacts(history.events));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('1 devices have no device_final');
  });
});
