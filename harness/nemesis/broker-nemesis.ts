// Broker restarts by trigger (ARCHITECTURE.md §4; embedded broker only): every client is cut, the broker's
// in-memory sessions and in-flight messages are lost, and after `downMs` it listens again on the same port.
// Healing: the pipeline's client reconnects and resubscribes on its own; devices see a lost session and retry on
// their next attempt (the firmware decides when). A network nemesis installed with
// `installNetworkNemesisOnBroker` follows the broker onto its new aedes instance.
import { urlWithoutCredentials } from '../world/broker-auth.ts';
import type { History } from '../history/history.ts';
import type { FaultScheduler } from './fault-scheduler.ts';
import type { EmbeddedBroker } from '../world/broker.ts';

export interface BrokerNemesis {
  stats(): { readonly restarts: number; readonly errors: readonly string[] };
  /** Waits for a restart in progress (the scheduler fires none after its own stop). */
  stop(): Promise<void>;
}

export const defaultBrokerDownMs = 500;

/** Plans one restart per trigger on the scheduler. */
export function planBrokerRestarts(
  broker: Pick<EmbeddedBroker, 'url' | 'restart'>,
  triggers: readonly string[],
  history: History,
  scheduler: FaultScheduler,
  options: { readonly downMs?: number } = {},
): BrokerNemesis {
  const downMs = options.downMs ?? defaultBrokerDownMs;
  const errors: string[] = [];
  let restarts = 0;
  let inProgress: Promise<void> = Promise.resolve();
  for (const trigger of triggers) {
    // The scheduler waits for the broker to be back before its next fault (and the progress display names the
    // outage meanwhile); devices and pipeline meet a broker that is down for `downMs`.
    scheduler.plan('broker_restart', trigger, async () => {
      restarts++;
      // The URL without the login the embedded broker's carries: the history is handed out as it is.
      history.append({
        type: 'nemesis',
        fault: 'broker_restart',
        target: urlWithoutCredentials(broker.url),
        detail: `down ${downMs} ms`,
      });
      const restart = broker.restart(downMs).catch((error: unknown) => {
        errors.push(error instanceof Error ? error.message : String(error));
      });
      inProgress = Promise.all([inProgress, restart]).then(() => {});
      await restart;
    });
  }
  return {
    stats: () => ({ restarts, errors: [...errors] }),
    stop: () => inProgress,
  };
}
