import { describe, expect, test } from 'vitest';
import { reproduceCommand } from './reproduce.ts';
import { buildFaultPlan, faultMixes } from '../nemesis/fault-plan.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';

const base: LiveRunOptions = { ...liveRunDefaults, seed: 42, brokerUrl: undefined, databaseUrl: undefined };

describe('reproduceCommand', () => {
  test('names the seed and only the options that differ from their defaults', () => {
    const defaults = { ...base, faults: faultMixes.default };
    expect(reproduceCommand(defaults)).toBe('npm run simulate -- --seed 42');
    expect(reproduceCommand({ ...defaults, devices: 20, imagesPerDevice: 2, qos: 0, dialect: 'spec' })).toBe(
      'npm run simulate -- --seed 42 --devices 20 --images 2 --qos 0 --dialect spec',
    );
    expect(reproduceCommand(base)).toBe('npm run simulate -- --seed 42 --faults none');
    expect(reproduceCommand({ ...base, faults: faultMixes.chaos })).toBe(
      'npm run simulate -- --seed 42 --faults chaos',
    );
  });

  test('spells out the pipeline, stage and every fault that is switched on', () => {
    const faults = buildFaultPlan('none', {
      device: { rebootRate: 0.1 },
      network: { brokerRestartAt: ['20%', '3-in-flight'] },
      server: { twoInstances: true },
      migration: { at: '50%' },
    });
    expect(reproduceCommand({ ...base, pipeline: 'legacy-insert', stage: 'base', faults })).toBe(
      'npm run simulate -- --seed 42 --pipeline legacy-insert --stage base --faults none --reboot-rate 0.1 --broker-restart-at 20% 3-in-flight --two-instances --migrate-at 50%',
    );
  });
});
