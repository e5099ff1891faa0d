// What the run's thread and a fleet thread (fleet-worker.ts) say to each other (fleet-threads.ts has the model).
import type { FleetCounters } from '../fleet/fleet-counters.ts';
import type { NewHistoryEvent } from '../history/events.ts';
import type { LiveRunOptions } from './run-options.ts';

/** workerData of a fleet thread: the run's options and the thread's share of its devices. */
export interface FleetThreadData {
  readonly options: LiveRunOptions;
  /** The world's broker (the embedded aedes' or the user's URL): the devices connect to it over TCP, as in-thread. */
  readonly brokerUrl: string;
  /** The embedded broker's auth secret (broker-auth.ts), for the devices' logins; a secret, never printed. */
  readonly brokerAuthSecret: string | undefined;
  /** A CA (PEM) the devices trust for an mqtts:// broker. */
  readonly brokerCa: string | undefined;
  /** The run's database, where the ACK observer (I7) looks the moment an ACK_OK reaches a device. */
  readonly databaseUrl: string;
  /** The devices of this thread (0-based places in the whole fleet, `to` exclusive). */
  readonly slice: { readonly from: number; readonly to: number };
  /** This thread's share of the devices awake at once. */
  readonly concurrencyMax: number;
  readonly staggerMs: number;
  /** The longest real wait for a deep sleep (run-fleet.ts's FleetShare). */
  readonly realSleepMsMax: number;
}

export type ToFleetThread =
  | { readonly kind: 'run' }
  | { readonly kind: 'heal' }
  /** The run's time budget or Ctrl-C: pending wakes are cancelled. */
  | { readonly kind: 'abort' }
  /** Back-pressure: the run's pipeline is behind (`held`), or keeps up again: no more devices wake meanwhile. */
  | { readonly kind: 'hold'; readonly held: boolean }
  /** Every device's session closed; the thread answers `shut` once its last events are sent. */
  | { readonly kind: 'shutdown' };

export type FromFleetThread =
  /** The devices are built (not awake yet). */
  | { readonly kind: 'ready' }
  /** What the devices did, in the order they did it, and the thread's counters after it. */
  | { readonly kind: 'events'; readonly events: readonly NewHistoryEvent[]; readonly counters: FleetCounters }
  /** `run` or `heal` finished; the events before it are all sent. */
  | { readonly kind: 'ran' | 'healed'; readonly aborted: boolean; readonly counters: FleetCounters }
  | { readonly kind: 'shut' }
  /** Something threw on the thread: the run fails with it. */
  | { readonly kind: 'failed'; readonly message: string };
