import { describe, expect, test } from 'vitest';
import { checkAckAfterDurability, pipelineAcksBeforeCommit } from './i7-ack-after-durability.ts';
import { runFacts } from './run-facts.ts';
import { cleanWorld, imageOf, newHistory, planWorld, standardCaptures, useScratchClient } from './test-world.ts';

describe('I7 ack after durability', () => {
  const client = useScratchClient('checker_i7');

  test('passes on a consistent run (a reused name committed under its disambiguated row)', async () => {
    const { history } = await cleanWorld(client(), standardCaptures);
    const v = await checkAckAfterDurability(client(), runFacts(history.events));
    expect(v).toMatchObject({ id: 'I7', verdict: 'pass', offendingCount: 0 });
    expect(v.summary).toContain('4 ACK_OKs observed');
  });

  test('fails when an ACK_OK reached a device before the image was complete', async () => {
    const { world, history } = await cleanWorld(client(), standardCaptures);
    const { mac, imageName, sha256 } = imageOf(world, 2).record;
    history.append({ type: 'ack_observed', mac, imageName, sha256, storedComplete: false });
    const v = await checkAckAfterDurability(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([expect.objectContaining({ kind: 'ack_before_complete', mac, imageName, sha256 })]);
  });

  test('fails when the pipeline acked before it committed', async () => {
    const { world } = await cleanWorld(client(), standardCaptures);
    const history = newHistory();
    const image = imageOf(world, 0);
    const { mac, imageName, sha256 } = image.record;
    history.append({ type: 'device_captured', capture: image.record });
    history.append({ type: 'device_sent_metadata', mac, imageName, sha256 });
    const ack = history.append({ type: 'pipeline_acked', mac, imageName });
    const commit = history.append({ type: 'pipeline_committed', mac, imageName, imageId: image.imageId });
    history.append({ type: 'ack_observed', mac, imageName, sha256, storedComplete: true });
    const v = await checkAckAfterDurability(client(), runFacts(history.events));
    expect(v.verdict).toBe('fail');
    expect(v.offending).toEqual([
      { kind: 'pipeline_ack_before_commit', mac, imageName, ackSeq: ack.seq, commitSeq: commit.seq },
    ]);
  });

  test('unknown, not thrown, on a malformed history', async () => {
    const v = await checkAckAfterDurability(client(), {
      ...runFacts([]),
      acks: null as unknown as [],
    });
    expect(v.verdict).toBe('unknown');
    expect(v.summary).toContain('could not evaluate');
  });
});

describe('pipelineAcksBeforeCommit (pure)', () => {
  const world = planWorld(standardCaptures);
  const mac = imageOf(world, 0).record.mac;

  test('an ack after its commit, a re-ack of a complete image, acks never committed: no problem', () => {
    expect(
      pipelineAcksBeforeCommit([
        { kind: 'committed', mac, imageName: 'image_1.jpg', imageId: 'a', seq: 1 },
        { kind: 'acked', mac, imageName: 'image_1.jpg', seq: 2 },
        { kind: 'acked', mac, imageName: 'image_1.jpg', seq: 3 },
        { kind: 'acked', mac, imageName: 'image_9.jpg', seq: 4 },
      ]),
    ).toEqual([]);
  });

  test('a commit of a disambiguated row counts for its wire name', () => {
    const steps = [
      { kind: 'acked', mac, imageName: 'image_1.jpg', seq: 1 },
      { kind: 'committed', mac, imageName: 'image_1~x.jpg', imageId: 'b', seq: 2 },
    ] as const;
    expect(pipelineAcksBeforeCommit(steps)).toEqual([]);
    expect(pipelineAcksBeforeCommit(steps, (id) => (id === 'b' ? 'image_1.jpg' : undefined))).toEqual([
      { kind: 'pipeline_ack_before_commit', mac, imageName: 'image_1.jpg', ackSeq: 1, commitSeq: 2 },
    ]);
  });
});
