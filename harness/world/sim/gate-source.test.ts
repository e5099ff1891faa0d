// A sweep's gates (gate-source.ts) on a scratch database of real Postgres: a gate a run left with nothing at it is
// handed to the next run as it is (same connections); one left mid-statement or with a slot held is aborted and
// replaced, so a run never inherits another's half-finished work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { primaryTarget, scratchDatabase } from '../../../test/databases.ts';
import type { ScratchDatabase } from '../../db/scratch-database.ts';
import { DatabaseClosedError } from '../sql.ts';
import { ReusedGates } from './gate-source.ts';
import type { GatedDatabase } from './gated-database.ts';

let scratch: ScratchDatabase | undefined;

beforeAll(async () => {
  const server = primaryTarget().server;
  if (server === null) throw new Error('no database server for tests');
  scratch = await scratchDatabase(server, 'gate_source');
});
afterAll(async () => {
  await scratch?.drop();
});

const options = () => ({ url: scratch!.url, slots: 2, mode: 'manual' as const });
const backendPid = async (gate: GatedDatabase): Promise<number> => {
  const q = gate.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await gate.runAll();
  return (await q).rows[0]!.pid;
};

describe('ReusedGates', () => {
  it('hands an idle gate to the next run with its connections; a second one meanwhile is its own', async () => {
    const gates = new ReusedGates();
    try {
      const first = await gates.open(options());
      const pid = await backendPid(first);
      expect(first.reusable).toBe(true);
      await gates.done(first);
      const second = await gates.open(options());
      expect(second).toBe(first);
      expect(await backendPid(second)).toBe(pid);
      // Taken: a second open meanwhile gets a gate of its own.
      const other = await gates.open(options());
      expect(other).not.toBe(second);
      await gates.done(other);
      await gates.done(second); // one is kept: this one is aborted
      await expect(second.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseClosedError);
    } finally {
      await gates.close();
    }
  });

  it('aborts a gate left with a statement at it, and the next run gets a fresh one', async () => {
    const gates = new ReusedGates();
    try {
      const first = await gates.open(options());
      const left = first.query('SELECT 1'); // never released: the run ended with it pending
      left.catch(() => {});
      expect(first.reusable).toBe(false);
      await gates.done(first);
      await expect(left).rejects.toBeInstanceOf(DatabaseClosedError);
      const next = await gates.open(options());
      expect(next).not.toBe(first);
      expect(next.reusable).toBe(true);
      await gates.done(next);
    } finally {
      await gates.close();
    }
  });

  it('a gate asked for with other options (another database) replaces the kept one, which is aborted', async () => {
    const gates = new ReusedGates();
    try {
      const first = await gates.open(options());
      await gates.done(first);
      const other = await gates.open({ ...options(), slots: 3 });
      expect(other).not.toBe(first);
      await expect(first.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseClosedError);
      await gates.done(other);
    } finally {
      await gates.close();
    }
  });

  it('close() aborts the gate it keeps', async () => {
    const gates = new ReusedGates();
    const gate = await gates.open(options());
    await gates.done(gate);
    await gates.close();
    await expect(gate.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseClosedError);
  });
});
