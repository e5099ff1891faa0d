import { describe, expect, test } from 'vitest';
import { reproduceCommand } from './reproduce.ts';
import { buildFaultPlan } from '../nemesis/fault-plan.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';

const base: LiveRunOptions = { ...liveRunDefaults, seed: 42, brokerUrl: undefined, databaseUrl: undefined };

describe('reproduceCommand', () => {
  test('names the seed and only the options that differ from their defaults', () => {
    expect(reproduceCommand(base)).toBe('npm run simulate -- --seed 42');
    expect(reproduceCommand({ ...base, devices: 20, imagesPerDevice: 2, qos: 0, dialect: 'spec' })).toBe(
      'npm run simulate -- --seed 42 --devices 20 --images 2 --qos 0 --dialect spec',
    );
  });

  test('spells out the pipeline, stage and every fault that is switched on', () => {
    const faults = buildFaultPlan('none', {
      device: { rebootRate: 0.1 },
      network: { brokerRestartAtMs: [500, 900] },
      server: { twoInstances: true },
      migration: { atMs: 700 },
    });
    expect(reproduceCommand({ ...base, pipeline: 'legacy-insert', stage: 'base', faults })).toBe(
      'npm run simulate -- --seed 42 --pipeline legacy-insert --stage base --reboot-rate 0.1 --broker-restart-at-ms 500 900 --two-instances --migrate-at-ms 700',
    );
  });
});
