// One connection of the gated database (gated-database.ts): a pg.Client to the real server, its backend pid (what
// pg_blocking_pids is asked about), and whether it still works. A connection whose backend was killed (the
// kill-connections fault) or dropped is replaced when its slot is next handed out, as pg.Pool replaces one.
import pg from 'pg';

export interface GateConnectionOptions {
  readonly url: string;
  /** Shows in pg_stat_activity: the kill-connections fault finds the pipeline's backends by it. Cut to 63 bytes. */
  readonly applicationName?: string;
  readonly connectionTimeoutMs?: number;
}

export class GateConnection {
  private client: pg.Client | undefined;
  /** The backend serving this connection (0 before the first connect). */
  pid = 0;
  /** The socket failed or was closed: statements on it fail until reconnect(). */
  broken = true;

  constructor(private readonly options: GateConnectionOptions) {}

  /** (Re)opens the connection; the old client, if any, is let go. */
  async reconnect(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    if (old !== undefined) void old.end().catch(() => {});
    const o = this.options;
    const client = new pg.Client({
      connectionString: o.url,
      connectionTimeoutMillis: o.connectionTimeoutMs ?? 10_000,
      ...(o.applicationName === undefined ? {} : { application_name: o.applicationName.slice(0, 63) }),
    });
    // A killed backend emits 'error' on the client: without a listener that would be an uncaught exception. The
    // statement running on it fails with the error and the caller handles that.
    client.on('error', () => this.markBroken(client));
    client.on('end', () => this.markBroken(client));
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    this.client = client;
    this.pid = rows[0]?.pid ?? 0;
    this.broken = false;
  }

  /**
   * Sends one statement; pg rejects at once when the connection is gone ("… not queryable"). A statement that
   * failed because the connection did marks it broken at once, so the next one gets a new backend: the client's
   * 'error' / 'end' event may come only after the caller has sent that next statement (a killed backend answers
   * 57P01 before its socket closes), which then met the dead connection too.
   */
  send(config: pg.QueryConfig): Promise<pg.QueryResult<pg.QueryResultRow>> {
    const client = this.client;
    if (client === undefined) return Promise.reject(new Error('gate connection not queryable: never connected'));
    return client.query<pg.QueryResultRow>(config).catch((error: unknown) => {
      if (lostConnection(error)) this.markBroken(client);
      throw error;
    });
  }

  /** Closes the socket; a statement running on it fails ("Connection terminated"). */
  async close(): Promise<void> {
    const client = this.client;
    this.broken = true;
    if (client !== undefined) await client.end().catch(() => {});
  }

  private markBroken(client: pg.Client): void {
    if (client === this.client) this.broken = true;
  }
}

/** The connection failed, not the statement: a killed or shut-down backend (57Pxx), a connection exception (08xxx),
 *  or an error without a SQLSTATE (the socket closed under the statement: "Connection terminated unexpectedly"). */
function lostConnection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  return code.startsWith('57P') || code.startsWith('08');
}
