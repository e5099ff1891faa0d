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
  const externalUrl = process.env.CAMFLEET_EXTERNAL_PG_URL ?? defaultExternalPgUrl;
  const probe = await probeDatabase(externalUrl);
  project.provide('externalDatabase', {
    url: externalUrl,
    reachable: probe.ok,
    reason: probe.ok ? 'reachable' : probe.reason,
  });
  if (!probe.ok)
    console.warn(
      `[camfleet tests] external Postgres ${externalUrl} not reachable (${probe.reason}): its suites are skipped`,
    );
  const brokerUrl = process.env.CAMFLEET_EXTERNAL_MQTT_URL ?? defaultExternalMqttUrl;
  const brokerProbe = await probeBroker(brokerUrl);
  project.provide('externalBroker', {
    url: brokerUrl,
    reachable: brokerProbe.ok,
    reason: brokerProbe.ok ? 'reachable' : brokerProbe.reason,
  });
  if (!brokerProbe.ok)
    console.warn(
      `[camfleet tests] external MQTT broker ${brokerUrl} not reachable (${brokerProbe.reason}): its suites are skipped`,
    );
  return () => server.stop();
}
