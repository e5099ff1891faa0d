// One embedded Postgres for the whole test run (its start-up is paid once), shared by every test file, each of
// which works in a scratch database of its own. DATABASE_URL replaces it with an external server. The PostgreSQL
// server of our machines (CAMFLEET_EXTERNAL_PG_URL, default 127.0.0.1:5432) is probed too, so suites can run
// against it as well — or skip with a visible reason when it is not reachable.
import type { TestProject } from 'vitest/node';
import { probeDatabase } from '../harness/db/external-server.ts';
import { openDatabaseServer } from '../harness/db/server.ts';
import { probeBroker } from '../harness/world/broker.ts';
import { defaultExternalMqttUrl, defaultExternalPgUrl } from './external-services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    primaryDatabase: { kind: 'embedded' | 'external'; url: string };
    externalDatabase: { url: string; reachable: boolean; reason: string };
    externalBroker: { url: string; reachable: boolean; reason: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await openDatabaseServer({ databaseUrl: process.env.DATABASE_URL });
  project.provide('primaryDatabase', { kind: server.kind, url: server.url });
  await provideProbe(
    project,
    'externalDatabase',
    'external Postgres',
    process.env.CAMFLEET_EXTERNAL_PG_URL ?? defaultExternalPgUrl,
    probeDatabase,
  );
  await provideProbe(
    project,
    'externalBroker',
    'external MQTT broker',
    process.env.CAMFLEET_EXTERNAL_MQTT_URL ?? defaultExternalMqttUrl,
    probeBroker,
  );
  return () => server.stop();
}

/** Probes one of the machine's services and tells the suites whether they can use it (and why not). */
async function provideProbe(
  project: TestProject,
  key: 'externalDatabase' | 'externalBroker',
  what: string,
  url: string,
  probe: (url: string) => Promise<{ ok: true } | { ok: false; reason: string }>,
): Promise<void> {
  const result = await probe(url);
  project.provide(key, { url, reachable: result.ok, reason: result.ok ? 'reachable' : result.reason });
  if (!result.ok)
    console.warn(`[camfleet tests] ${what} ${url} not reachable (${result.reason}): its suites are skipped`);
}
