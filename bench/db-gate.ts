// `npm run bench:db-gate`: statements per second through the sim world's gated database (harness/world/sim/
// gated-database.ts) — every statement released alone and handed back by the gate — next to the live pg.Pool on
// the same server, on the embedded database (or DATABASE_URL, in a scratch database). Options: --statements N
// (per measurement, default 5000), --callers N (concurrent transactions, default 4).
// Each measurement runs `callers` concurrent loops of a small transaction (BEGIN, INSERT … RETURNING, UPDATE,
// COMMIT), so it counts the statements a pipeline handler would send, BEGIN and COMMIT included.
import { parseArgs } from 'node:util';
import { createScratchDatabase } from '../harness/db/scratch-database.ts';
import { openDatabaseServer } from '../harness/db/server.ts';
import { createPgDatabase } from '../harness/world/live/pg-database.ts';
import { openGatedDatabase } from '../harness/world/sim/gated-database.ts';
import type { Database } from '../harness/world/sql.ts';

const { values } = parseArgs({
  options: { statements: { type: 'string', default: '5000' }, callers: { type: 'string', default: '4' } },
});
const statements = Number(values.statements);
const callers = Number(values.callers);
if (!Number.isInteger(statements) || statements < 4 || !Number.isInteger(callers) || callers < 1) {
  console.error('usage: npm run bench:db-gate -- [--statements N ≥ 4] [--callers N ≥ 1]');
  process.exit(2);
}
const STATEMENTS_PER_TRANSACTION = 4;

/** Runs the workload on `db`; returns statements per second. */
async function measure(db: Database, table: string): Promise<number> {
  await db.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, n int NOT NULL)`);
  const transactions = Math.ceil(statements / STATEMENTS_PER_TRANSACTION);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < transactions) {
        next++;
        await db.transaction(async (tx) => {
          const { rows } = await tx.query<{ id: string }>(`INSERT INTO ${table} (n) VALUES ($1) RETURNING id`, [next]);
          await tx.query(`UPDATE ${table} SET n = n + 1 WHERE id = $1`, [rows[0]?.id]);
        });
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  return (transactions * STATEMENTS_PER_TRANSACTION) / (elapsedMs / 1000);
}

const server = await openDatabaseServer({ databaseUrl: process.env.DATABASE_URL });
const scratch = await createScratchDatabase(server, 'bench_db_gate');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
try {
  console.log(`server: ${server.kind} (${server.address}); ${statements} statements, ${callers} concurrent callers`);
  const live = createPgDatabase({ url: scratch.url, max: callers });
  const liveRate = await measure(live, 'bench_live').finally(() => live.end());
  console.log(`live pg.Pool (max ${callers}):        ${fmt(liveRate)} statements/s`);
  const gated = await openGatedDatabase({ url: scratch.url, slots: callers });
  const gatedRate = await measure(gated, 'bench_gated').finally(() => gated.end());
  console.log(`gated, auto mode (${callers} slots):   ${fmt(gatedRate)} statements/s`);
  const single = await openGatedDatabase({ url: scratch.url, slots: 1 });
  const singleRate = await measure(single, 'bench_gated_one').finally(() => single.end());
  console.log(`gated, auto mode (1 slot):     ${fmt(singleRate)} statements/s`);
} finally {
  await scratch.drop();
  await server.stop();
}
process.exit(0);
