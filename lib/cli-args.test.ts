import { describe, expect, test } from 'vitest';
import { camelCase, kebabCase, toCliArgs } from './cli-args.ts';

const flags = new Set(['devices', 'image-kb', 'keep-db', 'broker-restart-at', 'seed']);

describe('library options as command-line arguments', () => {
  test('camelCase ⇄ kebab-case', () => {
    expect(kebabCase('imageKb')).toBe('image-kb');
    expect(kebabCase('brokerRestartAt')).toBe('broker-restart-at');
    expect(camelCase('ack-timeout-ms')).toBe('ackTimeoutMs');
    expect(camelCase(kebabCase('fleetThreads'))).toBe('fleetThreads');
    // A number starts a word of its own: the forwarder's --webhook-5xx-rate is webhook5xxRate.
    expect(kebabCase('webhook5xxRate')).toBe('webhook-5xx-rate');
    expect(camelCase('webhook-5xx-rate')).toBe('webhook5xxRate');
  });
  test('numbers, strings, switches and lists; undefined left out', () => {
    expect(
      toCliArgs(
        { devices: 3, imageKb: 12, keepDb: false, brokerRestartAt: ['40%', '-1'], seed: undefined },
        flags,
        'simulate',
      ),
    ).toEqual(['--devices=3', '--image-kb=12', '--no-keep-db', '--broker-restart-at=40%', '--broker-restart-at=-1']);
    expect(toCliArgs({ keepDb: true }, flags, 'simulate')).toEqual(['--keep-db']);
  });
  test('an unknown key is refused as written, with the known ones', () => {
    expect(() => toCliArgs({ devcies: 3 }, flags, 'simulate')).toThrow(
      /simulate: unknown option "devcies" \(options: brokerRestartAt, devices, imageKb, keepDb, seed\)/,
    );
    expect(() => toCliArgs({ devices: { n: 3 } }, flags, 'simulate')).toThrow(/"devices" must be a number/);
  });
});
