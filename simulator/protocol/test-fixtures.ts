// Test-only: the shared protocol fixtures (../shared/fixtures/protocol beside this repo). Not part of the codec.

import { readdirSync, readFileSync } from 'node:fs';

export interface Fixture {
  readonly name: string;
  readonly topic: string;
  readonly payload: string;
}

export const FIXTURES_DIR = new URL('../../../shared/fixtures/protocol/', import.meta.url);

export function loadFixtures(kind: 'valid' | 'invalid'): Fixture[] {
  const dir = new URL(`${kind}/`, FIXTURES_DIR);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const parsed = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { topic: string; payload: string };
      return { name: file.replace(/\.json$/, ''), topic: parsed.topic, payload: parsed.payload };
    });
}

export function fixture(kind: 'valid' | 'invalid', name: string): Fixture {
  const f = loadFixtures(kind).find((x) => x.name === name);
  if (f === undefined) throw new Error(`no fixture ${kind}/${name}`);
  return f;
}
