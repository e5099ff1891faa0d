// Which module a worker thread runs: the .ts source named by its caller (through tsx), or, compiled, its .js twin.
import { describe, expect, test } from 'vitest';
import { workerEntry } from './ts-worker.ts';

describe('workerEntry', () => {
  const source = new URL('file:///pkg/harness/run/fleet-worker.ts');
  test('from the sources: the .ts module itself', () => {
    expect(workerEntry(source, false).href).toBe(source.href);
  });
  test('compiled: the .js twin beside the compiled caller', () => {
    expect(workerEntry(source, true).href).toBe('file:///pkg/harness/run/fleet-worker.js');
    const js = new URL('file:///pkg/x/already.js');
    expect(workerEntry(js, true).href).toBe(js.href);
  });
});
