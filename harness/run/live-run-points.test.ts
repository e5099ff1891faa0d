// Faults at logical points in a live run (aedes, real timers): the device-side points are counted in the device's
// own messages and wakes, so they strike at the same moment as in sim — device 2 loses power right after chunk 4
// of its image 1, device 3's counter resets just before its wake 2 — and the run passes with `fixed`. The pipeline's
// crash between a completion commit and its ACK strikes at the pipeline's own seam, in live as in sim. A dropped
// PUBACK strikes at aedes' PubAck write (nemesis/aedes-puback.ts).
import { describe, expect, test } from 'vitest';
import { primaryTarget } from '../../test/databases.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import { parseFaultPoint } from '../nemesis/fault-points.ts';
import { runLive } from './live-run.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';
import { RunWorldError } from './run-world.ts';
import { runMacs } from './sim-run-fixture.ts';

const reboot = 'reboot:device=2,image=1,after-chunks=5';
const reset = 'counter-reset:device=3,wake=2';
const options: LiveRunOptions = {
  ...liveRunDefaults,
  devices: 3,
  imagesPerDevice: 2,
  imageKbMean: 20,
  seed: 20260114,
  brokerUrl: undefined,
  databaseUrl: primaryTarget().server?.kind === 'external' ? primaryTarget().server?.url : undefined,
  timeBudgetMs: 60_000,
  faults: buildFaultPlan('none', { points: [reboot, reset].map(parseFaultPoint) }),
};
const macs = runMacs(options);

describe('faults at logical points in a live run', () => {
  test('a reboot after chunk 5 of image 1 of device 2 and a counter reset before wake 2 of device 3 strike there', async () => {
    const result = await runLive(options);
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    expect(result.verdicts.find((v) => v.id === 'E1')?.summary).toContain('2 fault points struck');
    const nemesis = result.history.ofType('nemesis');
    expect(nemesis).toEqual([
      expect.objectContaining({
        fault: 'reboot',
        target: macs[1],
        detail: `point ${reboot}: wake 1: image_1.jpg (image 1) after chunk 4 (RAM lost, SD kept)`,
      }),
      expect.objectContaining({
        fault: 'counter_reset',
        target: macs[2],
        detail: `point ${reset}: wake 2: flash counter 1 -> 0`,
      }),
    ]);
    // Device 3's second capture reuses the first one's name; the pipeline kept both.
    const names = result.history
      .ofType('device_captured')
      .filter((e) => e.capture.mac === macs[2])
      .map((e) => e.capture.imageName);
    expect(names).toEqual(['image_1.jpg', 'image_1.jpg']);
    expect(result.pipeline.imagesCompleted).toBe(6);
  });

  test('migrate:in-flight=2 is the mid-run migration at its in-flight trigger: planned, fired mid-transfer, recorded', async () => {
    const result = await runLive({
      ...options,
      devices: 6,
      pipeline: 'legacy-insert',
      stage: 'base',
      faults: buildFaultPlan('none', { points: [parseFaultPoint('migrate:in-flight=2')] }),
      exercises: ['migration_mid_transfer'],
    });
    expect(result.history.ofType('fault_planned')).toEqual([
      expect.objectContaining({ fault: 'migration', trigger: '2-in-flight' }),
    ]);
    expect(result.history.ofType('fault_fired')).toEqual([
      expect.objectContaining({ fault: 'migration', trigger: '2-in-flight' }),
    ]);
    expect(result.history.ofType('nemesis').map((e) => e.fault)).toContain('migration');
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
  });

  test('the pipeline crashes between the commit of device 1 image 1 and its ACK; the restarted one sends it', async () => {
    const point = 'crash-before-ack:device=1,image=1';
    const result = await runLive({ ...options, faults: buildFaultPlan('none', { points: [parseFaultPoint(point)] }) });
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    expect(result.history.ofType('point_struck')).toEqual([expect.objectContaining({ point, target: macs[0] })]);
    const struckSeq = result.history.ofType('point_struck')[0]?.seq ?? -1;
    const acks = result.history
      .ofType('pipeline_acked')
      .filter((e) => e.mac === macs[0] && e.imageName === 'image_1.jpg');
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.every((a) => a.seq > struckSeq)).toBe(true);
    expect(result.faultsInjected['pipeline_restart']).toBe(1);
  });

  test('the broker drops the PUBACK of chunk 5 of device 2 image 1: the device never disconnects that session', async () => {
    const point = 'drop-puback:device=2,image=1,chunk=5';
    const result = await runLive({ ...options, faults: buildFaultPlan('none', { points: [parseFaultPoint(point)] }) });
    const failing = result.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
    const struck = result.history.ofType('point_struck');
    expect(struck).toEqual([expect.objectContaining({ point, target: macs[1] })]);
    expect(result.history.ofType('nemesis')).toEqual([
      expect.objectContaining({
        fault: 'puback_dropped',
        target: macs[1],
        detail: `point ${point}: image_1.jpg (image 1) chunk 5`,
      }),
    ]);
    // mqtt.js' end() waits for the PUBACK: no DISCONNECT, so aedes sees that session end only when the device's next
    // one (wake 2) takes it over — never between the strike and that wake.
    const struckSeq = struck[0]?.seq ?? -1;
    const wake2 = result.history.ofType('device_wake').find((e) => e.mac === macs[1] && e.wake === 2)?.seq ?? -1;
    expect(wake2).toBeGreaterThan(struckSeq);
    const ended = result.history
      .ofType('broker_client')
      .filter((e) => e.clientId === macs[1] && !e.connected && e.seq > struckSeq);
    expect(ended.length).toBeGreaterThan(0);
    expect(ended[0]?.seq).toBeGreaterThan(wake2);
  });

  test('drop-puback is refused before anything starts on a broker at a URL (exit 2)', async () => {
    const point = 'drop-puback:device=1,image=1,chunk=2';
    const error = await runLive({
      ...options,
      brokerUrl: 'mqtt://127.0.0.1:1',
      faults: buildFaultPlan('none', { points: [parseFaultPoint(point)] }),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunWorldError);
    expect((error as RunWorldError).exitCode).toBe(2);
    expect((error as RunWorldError).message).toMatch(new RegExp(`^fault point ${point}: needs the embedded broker`));
  });
});
