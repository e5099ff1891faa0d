// A slow link to Postgres (ARCHITECTURE.md §4, slow database): a TCP proxy on 127.0.0.1 in front of the server that
// holds every chunk from client to server for `delayMs` before passing it on, in order; server → client is passed
// through as is. Every round trip of a client connected through it takes at least `delayMs` longer, with real
// sockets and the real protocol (nothing is parsed). The run hands the pipeline the proxy's URL.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { History } from '../history/history.ts';
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';

export interface SlowDbProxy {
  /** `targetUrl` with host and port replaced by the proxy's. */
  readonly url: string;
  readonly port: number;
  /** Closes the listener and every proxied connection. */
  stop(): Promise<void>;
}

/** The TCP address a postgres:// URL points at (a URL without a port means 5432). */
export function postgresAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 5432 };
}

/** `clock`: the per-chunk delay runs on it (default realClock). */
export async function startSlowDbProxy(
  targetUrl: string,
  delayMs: number,
  history?: History,
  clock: Clock = realClock,
): Promise<SlowDbProxy> {
  const target = postgresAddress(targetUrl);
  const pairs = new Set<Socket>();

  const server: Server = createServer((downstream) => {
    const upstream = connect(target.port, target.host);
    pairs.add(downstream);
    pairs.add(upstream);
    const timers = new Set<TimerHandle>();
    let closed = false;
    const closeBoth = () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clock.clearTimeout(timer);
      timers.clear();
      downstream.destroy();
      upstream.destroy();
      pairs.delete(downstream);
      pairs.delete(upstream);
    };
    // Later: each chunk waits delayMs; equal delays fire in the order they were set (a Clock guarantees it), so
    // the stream stays in order.
    const later = (action: () => void) => {
      const timer = clock.setTimeout(() => {
        timers.delete(timer);
        if (!closed) action();
      }, delayMs);
      timers.add(timer);
    };
    downstream.on('data', (chunk: Buffer) => later(() => upstream.write(chunk)));
    downstream.on('end', () => later(() => upstream.end()));
    upstream.on('data', (chunk: Buffer) => {
      if (!downstream.write(chunk)) {
        upstream.pause();
        downstream.once('drain', () => upstream.resume());
      }
    });
    upstream.on('end', () => downstream.end());
    downstream.on('error', closeBoth);
    upstream.on('error', closeBoth);
    downstream.on('close', closeBoth);
    upstream.on('close', closeBoth);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const u = new URL(targetUrl);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  history?.append({
    type: 'nemesis',
    fault: 'slow_database',
    target: `${target.host}:${target.port}`,
    detail: `${delayMs} ms per client → server chunk`,
  });

  let stopped = false;
  return {
    url: u.toString(),
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of pairs) socket.destroy();
      pairs.clear();
      await closed;
    },
  };
}
