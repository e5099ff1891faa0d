// A fleet thread (fleet-threads.ts has the model): a Fleet of the thread's share of the run's devices, built by
// runFleetOptions as the run's own thread would build it, over the run's broker URL and real time. What its
// devices do goes to the run's thread in batches (one per turn of this thread's event loop), with its counters.
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { storedCompleteNow } from '../checker/ack-observer.ts';
import { Fleet } from '../fleet/fleet.ts';
import type { NewHistoryEvent } from '../history/events.ts';
import { devicePointsByIndex } from '../nemesis/device-points.ts';
import { BrokerAuth } from '../world/broker-auth.ts';
import { liveWorld } from '../world/live/live-world.ts';
import { realClock } from '../world/live/real-clock.ts';
import type { FleetThreadData, FromFleetThread, ToFleetThread } from './fleet-thread-messages.ts';
import { poolSql } from './run-drive.ts';
import { runFleetOptions } from './run-fleet.ts';

const port = parentPort;
if (port === null) throw new Error('fleet-worker.ts runs as a worker thread');
const data = workerData as FleetThreadData;
const say = (m: FromFleetThread): void => port.postMessage(m);

/** A batch goes at once when it reaches this many events: a thread busy waking thousands of devices runs its
 *  deferred flush late, and the run's counters (and its back-pressure) would be seconds stale. */
const BATCH_EVENTS_MAX = 1_000;
let events: NewHistoryEvent[] = [];
let flushQueued = false;
let fleet: Fleet | undefined = undefined;

function flush(): void {
  flushQueued = false;
  if (events.length === 0 || fleet === undefined) return;
  say({ kind: 'events', events, counters: { ...fleet.counters } });
  events = [];
}

const history = {
  append(event: NewHistoryEvent): void {
    events.push(event);
    if (events.length >= BATCH_EVENTS_MAX) flush();
    else if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  },
};

// The ACK observer's own connections: a look at the database the moment an ACK_OK arrives (I7), from this thread.
const pool = new pg.Pool({ connectionString: data.databaseUrl, max: 4 });
pool.on('error', () => {}); // an idle connection cut (a killed connection fault, the database stopping) is not ours
const sql = poolSql(pool);
const abort = new AbortController();
/** The run's pipeline is behind (the run's thread says so when it changes). */
let held = false;

fleet = new Fleet(
  runFleetOptions(
    data.options,
    {
      slice: data.slice,
      concurrencyMax: data.concurrencyMax,
      staggerMs: data.staggerMs,
      realSleepMsMax: data.realSleepMsMax,
    },
    {
      transport: liveWorld({
        url: data.brokerUrl,
        ...(data.brokerAuthSecret === undefined ? {} : { auth: BrokerAuth.fromSecret(data.brokerAuthSecret) }),
        ...(data.brokerCa === undefined ? {} : { ca: data.brokerCa }),
      }).deviceTransport,
      history,
      clock: realClock,
      signal: abort.signal,
      pointsOf: devicePointsByIndex(data.options.faults.points),
      observeAck: (mac, _imageName, sha256s) => storedCompleteNow(sql, mac, sha256s),
      wakesHeld: () => held,
    },
  ),
);
const built = fleet;

function fail(error: unknown): void {
  say({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}

port.on('message', (m: ToFleetThread) => {
  switch (m.kind) {
    case 'run':
    case 'heal':
      void (m.kind === 'run' ? built.run() : built.heal()).then((outcome) => {
        flush(); // every event of the phase before its end
        say({ kind: m.kind === 'run' ? 'ran' : 'healed', aborted: outcome.aborted, counters: { ...built.counters } });
      }, fail);
      return;
    case 'abort':
      abort.abort();
      return;
    case 'hold':
      held = m.held;
      return;
    case 'shutdown':
      void built
        .shutdown()
        .then(() => pool.end())
        .then(() => {
          flush();
          say({ kind: 'shut' });
        }, fail);
      return;
  }
});
say({ kind: 'ready' });
