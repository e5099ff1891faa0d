// What every Postgres server looks like to the rest of camfleet, whoever runs it. Its own file so that server.ts
// (which picks one) and the two kinds it picks from (embedded-server.ts, external-server.ts) all import it without
// importing each other in a circle.

export interface DatabaseServer {
  readonly kind: 'embedded' | 'external';
  /** Where to connect for administrative work (CREATE/DROP DATABASE), and the database a run may use directly. */
  readonly url: string;
  /** `host:port` for messages. */
  readonly address: string;
  /** The same server, another database. */
  urlFor(database: string): string;
  /** Stops an embedded server (deleting its temporary data); a no-op for an external one. */
  stop(): Promise<void>;
}

/** Replaces the database name of a postgres URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}
