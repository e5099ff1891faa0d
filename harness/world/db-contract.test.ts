// The Database contract (db-contract.ts) run against both implementations a world can give the pipeline, each on a
// scratch database of its own: (a) the live pg.Pool (live/pg-database.ts); (b) the sim world's gated connections
// over the same real Postgres (sim/gated-database.ts), in auto mode — the gate releases every statement itself.
import { primaryTarget, scratchDatabase } from '../../test/databases.ts';
import { describeDatabaseContract, type DatabaseUnderTest } from './db-contract.ts';
import { createPgDatabase } from './live/pg-database.ts';
import { openGatedDatabase } from './sim/gated-database.ts';
import type { Database } from './sql.ts';

async function onScratch(purpose: string, open: (url: string, app: string) => Promise<Database>) {
  const server = primaryTarget().server;
  if (server === null) throw new Error('no database server for tests');
  const scratch = await scratchDatabase(server, purpose);
  const subject: DatabaseUnderTest = {
    url: scratch.url,
    open: (app) => open(scratch.url, app),
    close: () => scratch.drop(),
  };
  return subject;
}

describeDatabaseContract('pg.Pool (live)', () =>
  onScratch('db_contract_live', (url, app) => Promise.resolve(createPgDatabase({ url, max: 4, applicationName: app }))),
);

describeDatabaseContract('gated connections (sim, auto mode)', () =>
  onScratch('db_contract_gated', (url, app) => openGatedDatabase({ url, slots: 4, applicationName: app })),
);
