import { describe, expect, test } from 'vitest';
import { checkUnique } from './i1-unique.ts';
import { runFacts } from './run-facts.ts';
import { cleanWorld, imageOf, insertImage, standardCaptures, useScratchClient } from './test-world.ts';

describe('I1 unique', () => {
  const client = useScratchClient('checker_i1');

  test('passes on a consistent world', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const v = await checkUnique(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I1', name: 'unique', verdict: 'pass', offendingCount: 0 });
    expect(v.summary).toContain('among 4 image rows');
  });

  test('fails on the base stage with duplicate rows, listing each group', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures, { stage: 'base' });
    const first = imageOf(world, 0);
    // the legacy INSERT-per-metadata bug: two more rows for the same name
    await insertImage(client(), first, { imageId: crypto.randomUUID(), status: 'receiving' });
    await insertImage(client(), first, { imageId: crypto.randomUUID(), status: 'pending' });
    const v = await checkUnique(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offendingCount).toBe(1);
    expect(v.offending[0]).toMatchObject({ mac: 'B8F862F9C1C4', imageName: 'image_1.jpg', count: 3 });
    expect(v.summary).toContain('2 extra rows');
  });

  test('unknown, not thrown, when there is no device_images table', async () => {
    await client().query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
    const v = await checkUnique(client(), runFacts([]));
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('device_images');
  });
});
