import { describe, expect, test } from 'vitest';
import { reproduceCommand } from './reproduce.ts';
import { liveRunDefaults, type LiveRunOptions } from './run-options.ts';

const base: LiveRunOptions = { ...liveRunDefaults, seed: 42, brokerUrl: undefined, databaseUrl: undefined };

describe('reproduceCommand', () => {
  test('names the seed and only the options that differ from their defaults', () => {
    expect(reproduceCommand(base)).toBe('npm run simulate -- --seed 42');
    expect(reproduceCommand({ ...base, devices: 20, imagesPerDevice: 2, qos: 0, dialect: 'spec' })).toBe(
      'npm run simulate -- --seed 42 --devices 20 --images 2 --qos 0 --dialect spec',
    );
  });
});
