// Broker restarts on a schedule (ARCHITECTURE.md §4; embedded broker only): every client is cut, the broker's
// in-memory sessions and in-flight messages are lost, and after `downMs` it listens again on the same port.
// Healing: the pipeline's client reconnects and resubscribes on its own; devices see a lost session and retry on
// their next attempt (the firmware decides when). A network nemesis installed with
// `installNetworkNemesisOnBroker` follows the broker onto its new aedes instance.
import type { History } from '../history/history.ts';
import type { EmbeddedBroker } from '../world/broker.ts';

export interface BrokerNemesis {
  stats(): { readonly restarts: number; readonly errors: readonly string[] };
  /** Clears pending restarts and waits for one in progress. */
  stop(): Promise<void>;
}

export const defaultBrokerDownMs = 500;

/** Schedules the restarts; each time is ms after this call. */
export function scheduleBrokerRestarts(
  broker: Pick<EmbeddedBroker, 'url' | 'restart'>,
  restartAtMs: readonly number[],
  history: History,
  options: { readonly downMs?: number } = {},
): BrokerNemesis {
  const downMs = options.downMs ?? defaultBrokerDownMs;
  const timers = new Set<NodeJS.Timeout>();
  const errors: string[] = [];
  let restarts = 0;
  let stopped = false;
  let inProgress: Promise<void> = Promise.resolve();
  for (const atMs of restartAtMs) {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (stopped) return;
        restarts++;
        history.append({
          type: 'nemesis',
          fault: 'broker_restart',
          target: broker.url,
          detail: `down ${downMs} ms`,
        });
        inProgress = Promise.all([
          inProgress,
          broker.restart(downMs).catch((error: unknown) => {
            errors.push(error instanceof Error ? error.message : String(error));
          }),
        ]).then(() => {});
      },
      Math.max(0, atMs),
    );
    timers.add(timer);
  }
  return {
    stats: () => ({ restarts, errors: [...errors] }),
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await inProgress;
    },
  };
}
