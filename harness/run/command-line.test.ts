import { describe, expect, test } from 'vitest';
import { commandFor } from './command-line.ts';

describe('commandFor', () => {
  test('a clone runs npm scripts; the installed package its bin', () => {
    expect(commandFor('simulate', false)).toBe('npm run simulate --');
    expect(commandFor('simulate', true)).toBe('npx camfleet simulate');
    expect(commandFor('check', true)).toBe('npx camfleet check');
    expect(commandFor('explore')).toBe('npm run explore --'); // these tests run from the sources
  });
});
