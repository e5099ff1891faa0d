import { describe, expect, test } from 'vitest';
import { reproduceCommand } from './reproduce.ts';
import { buildFaultPlan, faultMixes } from '../nemesis/fault-plan.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';
import { parseFaultPoint } from '../nemesis/fault-points.ts';

const base: LiveRunOptions = { ...liveRunDefaults, seed: 42, brokerUrl: undefined, databaseUrl: undefined };

describe('reproduceCommand', () => {
  test('spells each fault point as a --fault-at flag after the mix (a migrate point as --migrate-at)', () => {
    const reboot = parseFaultPoint('reboot:device=2,image=1,after-chunks=5');
    const reset = parseFaultPoint('counter-reset:device=1,wake=2');
    expect(reproduceCommand({ ...base, faults: buildFaultPlan('none', { points: [reboot, reset] }) })).toBe(
      'npm run simulate -- --seed 42 --faults none --fault-at reboot:device=2,image=1,after-chunks=5 --fault-at counter-reset:device=1,wake=2',
    );
    // The default mix with a point is still the default mix (no flag) plus the point.
    expect(reproduceCommand({ ...base, faults: buildFaultPlan('default', { points: [reset] }) })).toBe(
      'npm run simulate -- --seed 42 --fault-at counter-reset:device=1,wake=2',
    );
    const migrating = buildFaultPlan('none', { points: [reboot, parseFaultPoint('migrate:in-flight=3')] });
    expect(reproduceCommand({ ...base, stage: 'base', faults: migrating })).toBe(
      'npm run simulate -- --seed 42 --stage base --faults none --migrate-at 3-in-flight --fault-at reboot:device=2,image=1,after-chunks=5',
    );
  });

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

  test('spells the opt-in "ACK names the capture" option when it is on', () => {
    expect(reproduceCommand({ ...base, ackNamesCapture: true })).toBe(
      'npm run simulate -- --seed 42 --ack-names-capture --faults none',
    );
  });

  test('names the firmware profile when it is not the default fw350', () => {
    expect(reproduceCommand({ ...base, firmware: 'fw350' })).toBe('npm run simulate -- --seed 42 --faults none');
    expect(reproduceCommand({ ...base, pipeline: 'legacy-insert', firmware: 'fw-dequeue-on-any-ack' })).toBe(
      'npm run simulate -- --seed 42 --pipeline legacy-insert --firmware fw-dequeue-on-any-ack --faults none',
    );
  });
});
