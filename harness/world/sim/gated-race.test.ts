// The select-then-insert race of two writers (PROTOCOL.md §7.2, profile legacy-two-writers) as a schedule, not luck:
// two transactions each SELECT the image by (device_id, image_name) and INSERT it when absent, on the gated database
// over real Postgres, with EVERY statement-level interleaving enumerated (a depth-first search over the gate's
// choices: each run follows a prefix of choices, then takes the first option, and every untaken option becomes a new
// prefix). Results are handed back as soon as they are ready, so the choice at each step is which writer's next
// statement runs.
// - Base stage (no unique key): some interleavings store two rows — exactly those where each SELECT runs before the
//   other writer's COMMIT (READ COMMITTED: a SELECT sees what was committed before it).
// - Resume stage (UNIQUE (device_id, image_name)): always one row. The losing INSERT fails with 23505 at once when
//   the other has committed, or waits on the other's uncommitted row — the gate reports it blocked, the only
//   statement left to release is the other's COMMIT, and releasing it lets the waiting INSERT fail with 23505.
// - The same choices give the same outcome: the whole enumeration runs twice and gives the same runs.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp } from '../../../schema/runner.ts';
import { primaryTarget, scratchDatabase } from '../../../test/databases.ts';
import type { ScratchDatabase } from '../../db/scratch-database.ts';
import type { Database } from '../sql.ts';
import { openGatedDatabase, type GatedDatabase } from './gated-database.ts';

const IMAGE = 'image_1.jpg';
const SELECT_IMAGE = 'SELECT image_id FROM device_images WHERE (device_id, image_name) = ($1, $2)';
const INSERT_IMAGE = `INSERT INTO device_images (device_id, image_name, captured_at, status)
                      VALUES ($1, $2, timestamptz '2026-01-14 10:00:00Z', 'receiving')`;

type WriterResult = 'inserted' | 'found' | `failed ${string}`;

/** One writer: the original's select-then-insert in one transaction. */
async function writer(db: Database, deviceId: string): Promise<WriterResult> {
  try {
    return await db.transaction(async (tx) => {
      const found = await tx.query(SELECT_IMAGE, [deviceId, IMAGE]);
      if (found.rowCount > 0) return 'found';
      await tx.query(INSERT_IMAGE, [deviceId, IMAGE]);
      return 'inserted';
    });
  } catch (error) {
    return `failed ${String((error as { code?: unknown }).code)}`;
  }
}

interface Run {
  /** The gate's choice at each step (an index into pending()). */
  readonly choices: readonly number[];
  /** How many statements were pending at each step. */
  readonly branching: readonly number[];
  /** What ran, in order: "A SELECT ok", "B INSERT waits on a lock", "B INSERT resumed: 23505", … */
  readonly steps: readonly string[];
  readonly results: readonly WriterResult[];
  readonly rows: number;
}

const who = (slot: number) => (slot === 0 ? 'A' : 'B');
const verb = (text: string) => text.trim().split(/\s+/)[0] ?? '';

/** Runs both writers under the given choices (then the first option at every further step). */
async function runOnce(db: GatedDatabase, admin: pg.Client, deviceId: string, prefix: readonly number[]) {
  await admin.query('DELETE FROM device_images');
  // A starts first, so it takes slot 0 and B slot 1 (the lowest free slot).
  const writers = [writer(db, deviceId), writer(db, deviceId)];
  const choices: number[] = [];
  const branching: number[] = [];
  const steps: string[] = [];
  await db.settle();
  for (;;) {
    for (let r = db.ready()[0]; r !== undefined; r = db.ready()[0]) await db.deliver(r);
    const options = db.pending();
    if (options.length === 0) break;
    const choice = prefix[choices.length] ?? 0;
    choices.push(choice);
    branching.push(options.length);
    const s = options[choice]!;
    const outcome = await db.release(s);
    if (outcome === 'blocked') steps.push(`${who(s.slot)} ${verb(s.text)} waits on a lock`);
    // The released statement first, then any it let go on (in arrival order).
    const ready = db.ready().sort((x, y) => Number(y.id === s.id) - Number(x.id === s.id));
    for (const r of ready) {
      const ended = r.ok ? 'ok' : String(r.code);
      steps.push(`${who(r.slot)} ${verb(r.text)} ${r.id === s.id ? '' : 'resumed: '}${ended}`);
    }
  }
  expect(db.blocked()).toEqual([]); // nothing left waiting: the schedule ran to its end
  const results = await Promise.all(writers);
  const counted = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM device_images');
  return { choices, branching, steps, results, rows: counted.rows[0]?.n ?? -1 } satisfies Run;
}

async function everyInterleaving(db: GatedDatabase, admin: pg.Client, deviceId: string): Promise<Run[]> {
  const runs: Run[] = [];
  const todo: number[][] = [[]];
  for (let prefix = todo.pop(); prefix !== undefined; prefix = todo.pop()) {
    const run = await runOnce(db, admin, deviceId, prefix);
    runs.push(run);
    for (let i = run.branching.length - 1; i >= prefix.length; i--) {
      for (let alt = (run.branching[i] ?? 1) - 1; alt >= 1; alt--) todo.push([...run.choices.slice(0, i), alt]);
    }
  }
  return runs;
}

const at = (run: Run, step: string) => run.steps.indexOf(step);

/** A scratch database at `stage` with one device, a gated database of two slots (manual), and an admin client. */
function useRaceWorld(stage: 'base' | 'resume') {
  let scratch: ScratchDatabase | undefined;
  let admin: pg.Client | undefined;
  let gated: GatedDatabase | undefined;
  let deviceId = '';
  beforeAll(async () => {
    const server = primaryTarget().server;
    if (server === null) throw new Error('no database server for tests');
    scratch = await scratchDatabase(server, `gated_race_${stage}`);
    admin = new pg.Client({ connectionString: scratch.url });
    await admin.connect();
    await migrateUp(admin, 'base');
    if (stage !== 'base') await migrateUp(admin, stage);
    const device = await admin.query<{ device_id: string }>(
      `INSERT INTO devices (device_mac, device_code) VALUES ('B8F862F9C1C4', 'DEVICE-ESP32S3-001') RETURNING device_id`,
    );
    deviceId = device.rows[0]!.device_id;
    gated = await openGatedDatabase({ url: scratch.url, slots: 2, mode: 'manual', applicationName: 'camfleet-race' });
  });
  afterAll(async () => {
    await gated?.abort();
    await admin?.end().catch(() => {});
    await scratch?.drop();
  });
  return () => everyInterleaving(gated!, admin!, deviceId);
}

describe('select-then-insert race without a unique key (base stage): the original bug', () => {
  const explore = useRaceWorld('base');

  it('two rows exactly when each SELECT runs before the other COMMIT; the same choices, the same runs', async () => {
    const runs = await explore();
    expect(runs).toHaveLength(70); // BEGIN, SELECT, [INSERT,] COMMIT each: 60 where both insert, 10 where one finds
    expect(new Set(runs.map((r) => r.choices.join(','))).size).toBe(runs.length);
    for (const run of runs) {
      const overlap =
        at(run, 'A SELECT ok') < at(run, 'B COMMIT ok') && at(run, 'B SELECT ok') < at(run, 'A COMMIT ok');
      expect(run.rows, run.steps.join(' | ')).toBe(overlap ? 2 : 1);
      expect([...run.results].sort()).toEqual(overlap ? ['inserted', 'inserted'] : ['found', 'inserted']);
      expect(run.steps.some((s) => s.includes('waits on a lock'))).toBe(false); // no key, nothing to wait for
    }
    expect(runs.filter((r) => r.rows === 2)).toHaveLength(60);
    expect(runs.filter((r) => r.rows === 1)).toHaveLength(10);
    expect(await explore()).toEqual(runs);
  });
});

describe('select-then-insert race with UNIQUE (device_id, image_name) (resume stage)', () => {
  const explore = useRaceWorld('resume');

  it('always one row: the losing INSERT gets 23505 at once, or waits on the lock until the COMMIT is released', async () => {
    const runs = await explore();
    expect(runs).toHaveLength(50);
    let waited = 0;
    let failedAtOnce = 0;
    for (const run of runs) {
      const trace = run.steps.join(' | ');
      expect(run.rows, trace).toBe(1);
      const results = [...run.results].sort();
      expect(results[1], trace).toBe('inserted');
      expect(['found', 'failed 23505'], trace).toContain(results[0]);
      for (const [loser, winner] of [
        ['A', 'B'],
        ['B', 'A'],
      ] as const) {
        const waits = at(run, `${loser} INSERT waits on a lock`);
        if (waits >= 0) {
          waited++;
          // Blocked behind the winner's uncommitted row: the winner's COMMIT is what the gate runs next, and it
          // lets the waiting INSERT go on — to a unique violation.
          expect(at(run, `${winner} INSERT ok`), trace).toBeLessThan(waits);
          expect(run.steps[waits + 1], trace).toBe(`${winner} COMMIT ok`);
          expect(run.steps[waits + 2], trace).toBe(`${loser} INSERT resumed: 23505`);
        } else if (at(run, `${loser} INSERT 23505`) >= 0) {
          failedAtOnce++;
          expect(at(run, `${winner} COMMIT ok`), trace).toBeLessThan(at(run, `${loser} INSERT 23505`));
        }
      }
    }
    // 50 = 20 where the loser waits on the lock + 20 where it fails at once + 10 where it finds the row.
    expect(waited).toBe(20);
    expect(failedAtOnce).toBe(20);
    expect(runs.filter((r) => r.results.includes('found'))).toHaveLength(10);
    expect(await explore()).toEqual(runs);
  });
});
