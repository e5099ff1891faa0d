// Issue 9, property suite 5: the two-writer race of PROTOCOL.md §7.2 at the level of database calls, EVERY
// interleaving for one image — enumerated, not sampled, and counted against an independent interleaving analysis.
//
// The writers are the pipeline's own code: on the base stage (001 + 004) the legacy-two-writers profile's service
// writer (its metadata path: findImagesMany → core decideMetadata/openRequestFor → LegacyWriters.open → plain INSERT
// or UPDATE, then the route) and its "edge function" (LegacyWriters.edgeWriter); on the resume stage (001..004) two
// `fixed` writers (the handler path: findImagesMany → decideMetadata → openTransfers, i.e. fn_wake_ingestion_handler
// with the route in the same statement), and the legacy pair again, now under the unique key. Each writer has its own
// connection behind its own gate (world/sim/gated-database.ts, manual), both gates are step sources of the seeded
// scheduler (world/sim/scheduler.ts), and a scripted chooser (`choose`) drives it depth-first: results are handed
// back at once (that is no choice: a writer's next statement only depends on them), and at each point where both
// writers have a statement waiting, every option is taken in some run. Each run is one order of the statements.
//
// The analysis: a small model of each writer as the sequence of statements it sends, depending on what its SELECT saw
// and whether its INSERT hit the unique key, over a model table (READ COMMITTED autocommit statements: each one sees
// every statement that ran before it). Its enumeration gives the set of interleavings and the outcome of each; the
// real enumeration must give exactly the same set — same statements in the same order, same result codes, same row
// count, same writer outcomes — so the count is checked, not claimed (base: C(5, 2) = 10, since each legacy writer
// sends 3 and 2 statements whatever it sees; fixed: C(4, 2) = 6).
//
// The profile's RaceGate (both writers read before either writes, so a live run shows the race every time) is opened
// up front and its window is zero: here the enumeration, not the gate, picks the orders, including the losing ones.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { applyStep, migrateUp } from '../../schema/runner.ts';
import { schemaSteps } from '../../schema/steps.ts';
import { createRng } from '../../simulator/random/prng.ts';
import type { Metadata, Topic } from '../../simulator/protocol/index.ts';
import { primaryTarget, scratchDatabase } from '../../test/databases.ts';
import type { ScratchDatabase } from '../db/scratch-database.ts';
import type { Clock } from '../world/clock.ts';
import { openGatedDatabase, type GatedDatabase } from '../world/sim/gated-database.ts';
import { gatedDatabaseSteps } from '../world/sim/gated-steps.ts';
import { SimScheduler, type SimStep } from '../world/sim/scheduler.ts';
import { VirtualClock } from '../world/sim/virtual-clock.ts';
import type { Database } from '../world/sql.ts';
import { Completer } from './completer.ts';
import { decideMetadata } from './core/metadata.ts';
import { storedNameCandidates } from './core/names.ts';
import { judgeOpened, openRequestFor } from './core/open.ts';
import { policyOf, type PipelineProfile } from './core/profile.ts';
import { LegacyWriters, RaceGate } from './legacy-writers.ts';
import { resolveOptions } from './options.ts';
import type { ServiceContext } from './service-context.ts';
import { emptyStats } from './stats.ts';
import { findImagesMany, openTransfers } from './store/images.ts';
import { RouteCache } from './transfers.ts';

const MAC = 'B8F862F9C1C4';
const META: Metadata = {
  kind: 'metadata',
  device_id: MAC,
  timestamp: '2026-01-14T10:00:00Z',
  image_name: 'image_1.jpg',
  image_size: 70,
  max_chunk_size: 16,
  total_chunk_count: 5,
};
const TOPIC: Topic = { dialect: 'fw350', deviceId: MAC, channel: 'data' };
const NOW_MS = Date.UTC(2026, 0, 14, 10, 0, 1);

/** What one run (or one model run) did: each writer's statements in the order they ran, with result codes. */
interface Outcome {
  readonly trace: readonly string[];
  readonly rows: number;
  readonly results: Readonly<Record<string, string>>;
}

const binomial = (n: number, k: number): number => (k === 0 ? 1 : (binomial(n - 1, k - 1) * n) / k);

// ---- the interleaving analysis (a model, no database) ---------------------------------------------------------------

interface ModelTable {
  rows: number;
  readonly unique: boolean;
}
interface ModelAnswer {
  readonly code: 'ok' | '23505';
  readonly found: boolean;
}
interface ModelStatement {
  readonly verb: 'SELECT' | 'INSERT' | 'UPDATE' | 'WITH';
  run(t: ModelTable): ModelAnswer;
}
type Program = Generator<ModelStatement, string, ModelAnswer>;

const ok = { code: 'ok', found: false } as const;
const read: ModelStatement = { verb: 'SELECT', run: (t) => ({ code: 'ok', found: t.rows > 0 }) };
const update: ModelStatement = { verb: 'UPDATE', run: () => ok };
/** image_transfers upsert (the route): never conflicts, adds no image row. */
const route: ModelStatement = { verb: 'INSERT', run: () => ok };
const insertRow: ModelStatement = {
  verb: 'INSERT',
  run: (t) => {
    if (t.unique && t.rows > 0) return { code: '23505', found: true };
    t.rows++;
    return ok;
  },
};
/** fn_wake_ingestion_handler: INSERT … ON CONFLICT DO NOTHING, else resume the row; `found` = it created one. */
const handler = (existing: boolean): ModelStatement => ({
  verb: 'WITH',
  run: (t) => {
    if (existing || t.rows > 0) return ok;
    t.rows++;
    return { code: 'ok', found: true };
  },
});

/** legacy-two-writers' service writer: select, then insert + route, or (row seen) resume + route; a lost INSERT
 *  (23505, only with the unique key) looks the winner up and resumes it (judgeInsertFailure: resume_winner). */
function* modelService(): Program {
  if ((yield read).found) {
    yield update;
    yield route;
    return 'resumed';
  }
  if ((yield insertRow).code === 'ok') {
    yield route;
    return 'created';
  }
  yield read;
  yield update;
  yield route;
  return 'lost the INSERT race, resumed the winner';
}

/** legacy-two-writers' edge writer: select, then insert, or (row seen) resume; its 23505 is logged, not thrown. */
function* modelEdge(): Program {
  if ((yield read).found) {
    yield update;
    return 'resumed';
  }
  return (yield insertRow).code === 'ok' ? 'created' : 'INSERT failed 23505, logged';
}

/** A `fixed` writer: select, then fn_wake_ingestion_handler (with the row's id when it saw one). */
function* modelFixed(): Program {
  const seen = (yield read).found;
  return (yield handler(seen)).found ? 'created' : 'resumed';
}

/** Every interleaving of the writers' programs, depth-first, each with its outcome. */
function modelInterleavings(writers: Readonly<Record<string, () => Program>>, unique: boolean): Outcome[] {
  const names = Object.keys(writers);
  const outcomes: Outcome[] = [];
  const todo: number[][] = [[]];
  for (let prefix = todo.pop(); prefix !== undefined; prefix = todo.pop()) {
    const table: ModelTable = { rows: 0, unique };
    const programs = names.map((n) => writers[n]!());
    const heads = programs.map((p) => p.next({ code: 'ok', found: false }));
    const trace: string[] = [];
    const results: Record<string, string> = {};
    const taken: number[] = [];
    const widths: number[] = [];
    for (;;) {
      const waiting = heads.flatMap((h, i) => (h.done === true ? [] : [i]));
      if (waiting.length === 0) break;
      let pick = waiting[0]!;
      if (waiting.length > 1) {
        const choice = prefix[taken.length] ?? 0;
        taken.push(choice);
        widths.push(waiting.length);
        pick = waiting[choice]!;
      }
      const head = heads[pick]!;
      if (head.done === true) throw new Error('unreachable');
      const answer = head.value.run(table);
      trace.push(`${names[pick]} ${head.value.verb} ${answer.code}`);
      heads[pick] = programs[pick]!.next(answer);
    }
    heads.forEach((h, i) => {
      if (h.done === true) results[names[i]!] = h.value;
    });
    outcomes.push({ trace, rows: table.rows, results });
    for (let i = widths.length - 1; i >= prefix.length; i--)
      for (let alt = widths[i]! - 1; alt >= 1; alt--) todo.push([...taken.slice(0, i), alt]);
  }
  return outcomes;
}

// ---- the real writers -----------------------------------------------------------------------------------------------

/** The clock the writers see: the virtual clock, except that the race window (a sleep of 0) takes no turn of its
 *  own — the enumeration already runs every order the window could produce. */
function windowFree(clock: VirtualClock): Clock {
  return {
    nowMs: () => clock.nowMs(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (h) => clock.clearTimeout(h),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    clearInterval: (h) => clock.clearInterval(h),
    sleep: (ms, o) => (ms <= 0 ? Promise.resolve() : clock.sleep(ms, o)),
  };
}

/** What LegacyWriters reads of the service: the profile's options and policy, its pool, and a log. */
function writerContext(pool: Database, profile: PipelineProfile, clock: Clock, log: (line: string) => void) {
  const o = resolveOptions({
    brokerUrl: 'sim://two-writers',
    databaseUrl: 'sim://two-writers',
    database: pool,
    profile,
    clock,
    writerRaceWindowMs: 0,
    log,
  });
  const ctx: ServiceContext = {
    o,
    policy: policyOf(profile),
    pool,
    schema: { duplicateLog: false, uniqueKey: false },
    counters: emptyStats(),
    routes: new RouteCache(),
    memory: undefined,
    completer: new Completer(() => Promise.resolve(), 1),
    crashed: () => false,
    retried: (work) => work(),
    send: () => {},
    reject: () => {},
    runInLane: (_deviceId, task) => task(),
    laneBusy: () => false,
  };
  return ctx;
}

/** The service's metadata path for one message (metadata-handler.ts `serve`, device known, no lanes), returning
 *  what it opened; `legacy` opens with the original's plain SQL, else with the handler (`fixed`). */
async function serveMetadata(pool: Database, deviceId: string, legacy: LegacyWriters | undefined): Promise<string> {
  const found = await findImagesMany(pool, [
    { deviceId, names: storedNameCandidates(META.image_name, META.timestamp, META.image_size) },
  ]);
  const decision = decideMetadata(META, found[0] ?? new Map());
  if (decision.kind === 'reject' || decision.kind === 'duplicate') return decision.kind;
  const request = openRequestFor(META, decision, { deviceId, dialect: 'fw350', nowMs: NOW_MS });
  const opened =
    legacy === undefined ? (await openTransfers(pool, [request]))[0]! : await legacy.open(request, undefined);
  const verdict = judgeOpened(request.storedName, opened);
  if (verdict.kind !== 'receiving') return verdict.kind;
  return verdict.isResume ? 'resumed' : 'created';
}

type Pair = 'legacy' | 'fixed';

/** Writer names as the traces spell them. */
const WRITERS: Readonly<Record<Pair, readonly [string, string]>> = {
  legacy: ['service', 'edge'],
  fixed: ['fixed-1', 'fixed-2'],
};

interface RaceWorld {
  readonly admin: pg.Client;
  readonly gates: readonly [GatedDatabase, GatedDatabase];
  readonly deviceId: string;
}

/** One run: both writers start at once; `prefix` scripts the first choices, the first option after that. */
async function runOnce(w: RaceWorld, pair: Pair, prefix: readonly number[]) {
  await w.admin.query('DELETE FROM device_images'); // cascades to image_transfers
  const clock = new VirtualClock(NOW_MS);
  const logs: string[] = [];
  const [a, b] = WRITERS[pair];
  const settle = (p: Promise<string>) =>
    p.catch((error: unknown) => `threw ${String((error as { code?: unknown }).code ?? error)}`);
  let writers: Promise<string>[];
  if (pair === 'legacy') {
    const service = new LegacyWriters(writerContext(w.gates[0], 'legacy-two-writers', windowFree(clock), () => {}));
    const edgeCtx = writerContext(w.gates[1], 'legacy-two-writers', windowFree(clock), (l) => logs.push(l));
    const gate = new RaceGate(edgeCtx.o.clock);
    gate.arrive('service');
    gate.arrive('edge');
    writers = [
      settle(serveMetadata(w.gates[0], w.deviceId, service)),
      settle(new LegacyWriters(edgeCtx).edgeWriter(TOPIC, META, w.deviceId, gate).then(() => 'returned')),
    ];
  } else {
    writers = [
      settle(serveMetadata(w.gates[0], w.deviceId, undefined)),
      settle(serveMetadata(w.gates[1], w.deviceId, undefined)),
    ];
  }
  const taken: number[] = [];
  const widths: number[] = [];
  const scheduler = new SimScheduler({
    rng: createRng(1),
    clock,
    sources: [gatedDatabaseSteps(w.gates[0], a), gatedDatabaseSteps(w.gates[1], b)],
    keepTrace: true,
    choose: (steps: readonly SimStep[]) => {
      const result = steps.findIndex((s) => s.label.includes(' result '));
      if (result >= 0) return result;
      const choice = prefix[taken.length] ?? 0;
      taken.push(choice);
      widths.push(steps.length);
      return choice;
    },
  });
  const run = await scheduler.runUntil(() => false);
  expect(run.stop).toBe('quiescent');
  const [first, second] = await Promise.all(writers);
  const rows = (await w.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM device_images')).rows[0]!.n;
  // "service result slot 0 INSERT 23505" → "service INSERT 23505": the statements in the order they ran.
  const trace = (run.trace ?? []).flatMap((label) => {
    const m = /^(\S+) result slot \d+ (\S+) (\S+)$/.exec(label);
    return m === null ? [] : [`${m[1]} ${m[2]} ${m[3]}`];
  });
  return { taken, widths, trace, rows, first: first!, second: second!, logs };
}

async function everyInterleaving(w: RaceWorld, pair: Pair): Promise<(Outcome & { logs: readonly string[] })[]> {
  const [a, b] = WRITERS[pair];
  const runs: (Outcome & { logs: readonly string[] })[] = [];
  const todo: number[][] = [[]];
  for (let prefix = todo.pop(); prefix !== undefined; prefix = todo.pop()) {
    const r = await runOnce(w, pair, prefix);
    // The edge writer returns nothing: what it did is what its statements did (and its log, for a 23505).
    const edgeDid = (): string => {
      if (r.logs.some((l) => l.includes('edge writer failed'))) {
        return r.logs.some((l) => l.includes('23505')) ? 'INSERT failed 23505, logged' : `failed: ${r.logs.join(' ')}`;
      }
      if (r.trace.includes('edge UPDATE ok')) return 'resumed';
      return r.trace.includes('edge INSERT ok') ? 'created' : `did nothing (${r.second})`;
    };
    const serviceDid =
      pair === 'legacy' && r.trace.includes('service INSERT 23505') && r.first === 'resumed'
        ? 'lost the INSERT race, resumed the winner'
        : r.first;
    runs.push({
      trace: r.trace,
      rows: r.rows,
      results: pair === 'legacy' ? { [a]: serviceDid, [b]: edgeDid() } : { [a]: r.first, [b]: r.second },
      logs: r.logs,
    });
    for (let i = r.widths.length - 1; i >= prefix.length; i--)
      for (let alt = r.widths[i]! - 1; alt >= 1; alt--) todo.push([...r.taken.slice(0, i), alt]);
  }
  return runs;
}

const key = (o: Outcome) => o.trace.join(' | ');
const byTrace = (outcomes: readonly Outcome[]) =>
  new Map(outcomes.map((o) => [key(o), { rows: o.rows, results: o.results }]));

function useRaceWorld(stage: 'base' | 'pipeline'): () => RaceWorld {
  let scratch: ScratchDatabase | undefined;
  let world: RaceWorld | undefined;
  beforeAll(async () => {
    const server = primaryTarget().server;
    if (server === null) throw new Error('no database server for tests');
    scratch = await scratchDatabase(server, `two_writers_${stage}`);
    const admin = new pg.Client({ connectionString: scratch.url });
    await admin.connect();
    await migrateUp(admin, 'base');
    if (stage === 'pipeline') await migrateUp(admin, 'pipeline');
    // The base stage as the legacy profiles run on it: 001 and camfleet's pipeline tables (004, on 001 alone).
    else
      await applyStep(
        admin,
        schemaSteps.find((s) => s.stage === 'pipeline')!,
      );
    const device = await admin.query<{ device_id: string }>(
      `INSERT INTO devices (device_mac, device_code) VALUES ($1, 'DEVICE-ESP32S3-001') RETURNING device_id`,
      [MAC],
    );
    const gate = (name: string) =>
      openGatedDatabase({ url: scratch!.url, slots: 1, mode: 'manual', applicationName: `camfleet-${name}` });
    world = { admin, gates: [await gate('writer-a'), await gate('writer-b')], deviceId: device.rows[0]!.device_id };
  });
  afterAll(async () => {
    await Promise.all(world?.gates.map((g) => g.abort()) ?? []);
    await world?.admin.end().catch(() => {});
    await scratch?.drop();
  });
  return () => world!;
}

describe('two writers, one image, every interleaving of their database calls', () => {
  describe('base stage, legacy-two-writers (service + edge writer, plain select-then-insert)', () => {
    const world = useRaceWorld('base');

    test('the bug is reachable: exactly the orders the analysis predicts store two rows', async () => {
      const model = modelInterleavings({ service: modelService, edge: modelEdge }, false);
      expect(model).toHaveLength(binomial(5, 2)); // 3 + 2 statements whatever each writer sees
      const runs = await everyInterleaving(world(), 'legacy');
      expect(runs).toHaveLength(model.length);
      expect(byTrace(runs)).toEqual(byTrace(model));
      // Two rows exactly when each writer's SELECT ran before the other's INSERT: 6 of the 10.
      const twoRows = runs.filter((r) => r.rows === 2);
      expect(twoRows).toHaveLength(6);
      for (const r of runs) {
        const at = (s: string) => r.trace.indexOf(s);
        const overlap =
          at('service SELECT ok') < at('edge INSERT ok') && at('edge SELECT ok') < at('service INSERT ok');
        expect(r.rows, key(r)).toBe(overlap ? 2 : 1);
        expect(r.logs, key(r)).toEqual([]);
      }
      // The comparison tells the stages apart: these runs are not what the analysis predicts under a unique key.
      expect(byTrace(runs)).not.toEqual(byTrace(modelInterleavings({ service: modelService, edge: modelEdge }, true)));
    });
  });

  describe('resume stage (UNIQUE (device_id, image_name))', () => {
    const world = useRaceWorld('pipeline');

    test('two fixed writers (fn_wake_ingestion_handler): no order stores two rows or fails', async () => {
      const model = modelInterleavings({ 'fixed-1': modelFixed, 'fixed-2': modelFixed }, true);
      expect(model).toHaveLength(binomial(4, 2));
      const runs = await everyInterleaving(world(), 'fixed');
      expect(runs).toHaveLength(model.length);
      expect(byTrace(runs)).toEqual(byTrace(model));
      for (const r of runs) {
        expect(r.rows, key(r)).toBe(1);
        expect(Object.values(r.results).sort(), key(r)).toEqual(['created', 'resumed']);
      }
    });

    test('the legacy writers under the unique key: one row in every order; a lost INSERT is handled, never thrown', async () => {
      const model = modelInterleavings({ service: modelService, edge: modelEdge }, true);
      const runs = await everyInterleaving(world(), 'legacy');
      expect(runs).toHaveLength(model.length);
      expect(byTrace(runs)).toEqual(byTrace(model));
      for (const r of runs) {
        expect(r.rows, key(r)).toBe(1);
        expect(Object.values(r.results).join(' '), key(r)).not.toMatch(/threw|failed:|did nothing/);
      }
      // Both ways of losing happen: the service resumes the edge's row, the edge's 23505 is logged.
      const results = runs.flatMap((r) => Object.values(r.results));
      expect(results).toContain('lost the INSERT race, resumed the winner');
      expect(results).toContain('INSERT failed 23505, logged');
    });
  });
});
