// A scenario → LiveRunOptions: defaults, the spec's fields, the fault plan from its mix and overrides, the context.
import { describe, expect, test } from 'vitest';
import { buildFaultPlan, faultMixes } from '../harness/nemesis/fault-plan.ts';
import { liveRunDefaults } from '../harness/run/run-options.ts';
import { validateScenario } from './spec.ts';
import { defaultScenarioSeed, fastDevicesMax, fastImageKbMax, scenarioRunOptions } from './to-run-options.ts';

const world = { brokerUrl: undefined, databaseUrl: 'postgres://db/x' };

describe('scenarioRunOptions', () => {
  const minimal = validateScenario(
    {
      name: 'm',
      purpose: 'minimal',
      fleet: { devices: 3, images: 2 },
      pipeline: 'fixed',
      stage: 'resume',
      faults: { mix: 'none' },
      timeBudgetS: 12,
      expect: 'pass',
    },
    'm.json',
  );

  test('a minimal spec: liveRunDefaults for what it leaves out, the default seed, no faults', () => {
    expect(scenarioRunOptions(minimal, world)).toEqual({
      ...liveRunDefaults,
      devices: 3,
      imagesPerDevice: 2,
      seed: defaultScenarioSeed,
      brokerUrl: undefined,
      databaseUrl: 'postgres://db/x',
      timeBudgetMs: 12_000,
      faults: faultMixes.none,
      exercises: [],
      historyPath: undefined,
    });
  });

  test('the firmware profile: the spec’s, else fw350', () => {
    expect(scenarioRunOptions(minimal, world).firmware).toBe('fw350');
    expect(scenarioRunOptions({ ...minimal, firmware: 'fw-resend-new-bytes' }, world).firmware).toBe(
      'fw-resend-new-bytes',
    );
  });

  const full = validateScenario(
    {
      name: 'f',
      purpose: 'full',
      seed: 9,
      fleet: {
        devices: 20,
        images: 3,
        imageKb: 40,
        chunkBytes: 512,
        dialect: 'spec',
        qos: 0,
        wakesMax: 5,
        ackTimeoutMs: 1500,
      },
      pipeline: 'legacy-ttl',
      stage: 'base',
      faults: {
        mix: 'default',
        device: { rebootRate: 0.5 },
        server: { pipelineRestartAt: ['20%', '3-in-flight'] },
        migration: { at: '50%' },
      },
      timeBudgetS: 30,
      expect: { fail: ['I4'] },
    },
    'f.json',
  );

  test("every fleet field, the pipeline and stage, and the mix's plan with the spec's overrides", () => {
    const o = scenarioRunOptions(full, { ...world, historyPath: '/tmp/h.ndjson' });
    expect(o).toMatchObject({
      devices: 20,
      imagesPerDevice: 3,
      imageKbMean: 40,
      chunkBytes: 512,
      dialect: 'spec',
      qos: 0,
      wakesMax: 5,
      ackTimeoutMs: 1500,
      seed: 9,
      pipeline: 'legacy-ttl',
      stage: 'base',
      timeBudgetMs: 30_000,
      historyPath: '/tmp/h.ndjson',
    });
    expect(o.faults).toEqual(
      buildFaultPlan('default', {
        device: { rebootRate: 0.5 },
        server: { pipelineRestartAt: ['20%', '3-in-flight'] },
        migration: { at: '50%' },
      }),
    );
    expect(o.faults.device.doubleSendRate).toBe(faultMixes.default.device.doubleSendRate);
    expect(o.faults.device.rebootRate).toBe(0.5);
  });

  test('the context overrides seed and pipeline; fast shrinks the fleet', () => {
    const o = scenarioRunOptions(full, { ...world, seed: 77, pipeline: 'fixed', fast: true });
    expect(o.seed).toBe(77);
    expect(o.pipeline).toBe('fixed');
    expect(o.devices).toBe(fastDevicesMax);
    expect(o.imageKbMean).toBe(fastImageKbMax);
    expect(o.imagesPerDevice).toBe(3);
  });
});
