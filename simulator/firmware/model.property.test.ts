// Property suite 4 (issue 9): model-based. Random command sequences — wakes online and offline, server commands,
// ACKs (queued / unknown / repeated names, with and without a wake time), timers, reboots, dropped sessions, lost
// messages, counter resets — run against the pure core and a small independent model (test-model.ts) of what the
// device must have queued, sent and kept; every step is checked against it. A failure prints seed and path:
// `SEED=… FC_PATH=… FC_REPLAY_PATH=… npx vitest run simulator/firmware/model.property.test.ts` replays it
// (test/property-runs.ts; FC_REPLAY_PATH is the `/*replayPath="…"*/` printed after the counterexample's commands).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParams } from '../../test/property-runs.ts';
import type { StepFn } from './test-model.ts';
import { firmwareCommandArbs, firmwareStep, runModel } from './test-model.ts';

/** fc.commands shrinks with its own state: replaying a counterexample needs the printed replayPath too. */
function replayPath(): { replayPath?: string } {
  const path = process.env.FC_REPLAY_PATH;
  return path === undefined || path === '' ? {} : { replayPath: path };
}

function modelProperty(stepFn: StepFn, replay: { replayPath?: string } = {}) {
  return fc.property(
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    fc.nat(13),
    fc.commands(firmwareCommandArbs(), { maxCommands: 150, size: 'max', ...replay }),
    (seed, offlineWakes, cmds) => runModel(stepFn, seed, offlineWakes, cmds),
  );
}

/** A broken device: every ACK_OK drops the oldest queued image, whatever it names. */
const dropsOldestOnAck: StepFn = (state, input, ctx) => {
  const result = firmwareStep(state, input, ctx);
  const queue = state.persistent.sd.queue;
  if (input.type !== 'message' || input.message.kind !== 'ack_ok' || state.ram.phase !== 'online') return result;
  if (queue.length === 0) return result;
  const persistent = { ...result.state.persistent, sd: { queue: queue.slice(1) } };
  return { ...result, state: { ...result.state, persistent } };
};

describe('firmware core against a model (fc.commands)', () => {
  it('queues, sends and keeps what the model says, after every command', () => {
    fc.assert(modelProperty(firmwareStep, replayPath()), propertyParams(500));
  });

  it('fails for a device that drops the oldest image on any ACK_OK', () => {
    const details = fc.check(modelProperty(dropsOldestOnAck), { numRuns: 200, seed: 42, endOnFailure: true });
    expect(details.failed).toBe(true);
    // and for the right reason: the SD queue / dequeued check, not some other disagreement
    expect(String(details.errorInstance)).toMatch(/SD queue|dequeued/);
  });
});
