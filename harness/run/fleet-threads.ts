// The run's devices on fleet threads of their own. In one thread, the devices (mqtt.js clients, firmware, image
// hashing), the embedded broker and the pipeline's decisions shared one event loop and one core: the fleet phase
// ran at ~6,000 chunks/s against ~9,000 for the bare broker (issue 10). Here each fleet thread (fleet-worker.ts)
// builds a Fleet of its share of the devices — the same options, seed and fault filters as in-thread, so the same
// devices and device faults — over the same broker URL, and hands what its devices did to the run's History in
// batches (events of one thread keep their order; the History stamps them as they arrive, a few ms after the fact).
// Faults of the server, broker and network side stay on this thread, where the broker and pipelines are.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { WAKE_HOLD_POLL_MS, type FleetOutcome, type RunnableFleet } from '../fleet/fleet.ts';
import { newFleetCounters, type FleetCounters } from '../fleet/fleet-counters.ts';
import type { HistoryAppender } from '../history/history.ts';
import { spawnTsWorker } from '../world/live/ts-worker.ts';
import type { BrokerAuth } from '../world/broker-auth.ts';
import type { FleetThreadData, FromFleetThread, ToFleetThread } from './fleet-thread-messages.ts';
import { runMacs } from './run-macs.ts';
import type { LiveRunOptions } from './run-options.ts';

/** Below this many devices a run keeps its fleet on its own thread: a thread's start-up (~0.3 s) would cost more
 *  than it saves. */
export const FLEET_THREADS_MIN_DEVICES = 200;
/** The most fleet threads a run starts: one process's broker and pipeline are one thread each, whatever the cores. */
export const FLEET_THREADS_MAX = 8;

/** How many fleet threads a live run of `devices` (this process's) uses: `options.fleetThreads` when given, else
 *  one per core but the run's own, at least one, none for a small fleet. Never more threads than devices. */
export function fleetThreadsFor(options: Pick<LiveRunOptions, 'fleetThreads'>, devices: number): number {
  const wanted =
    options.fleetThreads ??
    (devices < FLEET_THREADS_MIN_DEVICES ? 0 : Math.min(FLEET_THREADS_MAX, Math.max(1, availableParallelism() - 1)));
  return Math.min(wanted, devices);
}

/** Thread `t` of `n`'s part of `total` (contiguous; the parts add up to `total`). */
function part(total: number, t: number, n: number): { from: number; to: number } {
  return { from: Math.floor((total * t) / n), to: Math.floor((total * (t + 1)) / n) };
}

export interface FleetThreadsOptions {
  readonly options: LiveRunOptions;
  /** This process's devices and how they run (run-fleet.ts's FleetShare), split over the threads. */
  readonly share: {
    readonly slice: { readonly from: number; readonly to: number };
    readonly concurrencyMax: number;
    readonly staggerMs: number;
    readonly realSleepMsMax: number;
  };
  readonly threads: number;
  readonly brokerUrl: string;
  /** The embedded broker's auth, whose devices log in as themselves. */
  readonly brokerAuth: BrokerAuth | undefined;
  readonly brokerCa: string | undefined;
  readonly databaseUrl: string;
  readonly history: HistoryAppender;
  readonly signal: AbortSignal;
  /** The run's pipeline is behind: asked every WAKE_HOLD_POLL_MS, each change told to the threads. */
  readonly wakesHeld?: () => boolean;
}

interface FleetThread {
  readonly worker: Worker;
  counters: FleetCounters;
  readonly ready: Promise<void>;
  /** Resolves the `run`/`heal` under way on this thread, or the shutdown. */
  pending: ((m: FromFleetThread) => void) | undefined;
}

export class FleetThreads implements RunnableFleet {
  readonly counters: FleetCounters = newFleetCounters();
  readonly #threads: FleetThread[] = [];
  readonly #macs: readonly string[];
  readonly #from: number;
  readonly #signal: AbortSignal;
  /** Set once a thread failed: every phase from then on fails with it. */
  #failure: Error | undefined;
  readonly #onFailure = new Set<(e: Error) => void>();
  #shutDown = false;
  #holdPoll: NodeJS.Timeout | undefined;

  constructor(o: FleetThreadsOptions) {
    const { from, to } = o.share.slice;
    this.#from = from;
    this.#signal = o.signal;
    // The MACs of this process's devices, as each thread's Fleet draws them (fault points name devices by place).
    this.#macs = runMacs(o.options).slice(from, to);
    for (let t = 0; t < o.threads; t++) {
      const devices = part(to - from, t, o.threads);
      const awake = part(o.share.concurrencyMax, t, o.threads);
      const data: FleetThreadData = {
        options: o.options,
        brokerUrl: o.brokerUrl,
        brokerAuthSecret: o.brokerAuth?.secretHex,
        brokerCa: o.brokerCa,
        databaseUrl: o.databaseUrl,
        slice: { from: from + devices.from, to: from + devices.to },
        concurrencyMax: Math.max(1, awake.to - awake.from),
        staggerMs: o.share.staggerMs,
        realSleepMsMax: o.share.realSleepMsMax,
      };
      this.#threads.push(this.#start(data, o.history));
    }
    const wakesHeld = o.wakesHeld;
    if (wakesHeld !== undefined) {
      let told = false;
      this.#holdPoll = setInterval(() => {
        const held = wakesHeld();
        if (held === told) return;
        told = held;
        for (const t of this.#threads) t.worker.postMessage({ kind: 'hold', held } satisfies ToFleetThread);
      }, WAKE_HOLD_POLL_MS);
      this.#holdPoll.unref();
    }
  }

  macAt(index: number): string | undefined {
    return this.#macs[index - 1 - this.#from];
  }

  run(): Promise<FleetOutcome> {
    return this.#phase({ kind: 'run' });
  }

  heal(): Promise<FleetOutcome> {
    return this.#phase({ kind: 'heal' });
  }

  /** Every device's session closed and the threads' last events in the History, then the threads end. */
  async shutdown(): Promise<void> {
    if (this.#shutDown) return;
    this.#shutDown = true;
    clearInterval(this.#holdPoll);
    await Promise.all(
      this.#threads.map(async (thread) => {
        if (this.#failure === undefined) {
          const shut = new Promise<void>((resolve) => (thread.pending = () => resolve()));
          thread.worker.postMessage({ kind: 'shutdown' } satisfies ToFleetThread);
          await Promise.race([shut, this.#failed()]).catch(() => {});
        }
        await thread.worker.terminate();
      }),
    );
  }

  #start(data: FleetThreadData, history: HistoryAppender): FleetThread {
    const worker = spawnTsWorker(new URL('./fleet-worker.ts', import.meta.url), data);
    let markReady: () => void = () => {};
    const thread: FleetThread = {
      worker,
      counters: newFleetCounters(),
      ready: new Promise<void>((resolve) => (markReady = resolve)),
      pending: undefined,
    };
    worker.on('message', (m: FromFleetThread) => {
      switch (m.kind) {
        case 'ready':
          markReady();
          return;
        case 'events':
          for (const event of m.events) history.append(event);
          this.#count(thread, m.counters);
          return;
        case 'ran':
        case 'healed':
          this.#count(thread, m.counters);
          break;
        case 'failed':
          this.#fail(new Error(`a fleet thread failed: ${m.message}`));
          return;
        case 'shut':
          break;
      }
      const pending = thread.pending;
      thread.pending = undefined;
      pending?.(m);
    });
    worker.on('error', (error) => this.#fail(new Error(`a fleet thread failed: ${error.message}`)));
    worker.on('exit', () => {
      if (!this.#shutDown) this.#fail(new Error('a fleet thread stopped unexpectedly'));
    });
    return thread;
  }

  /** Sums the threads' latest counters into `counters` (the object the progress display holds). */
  #count(thread: FleetThread, counters: FleetCounters): void {
    thread.counters = counters;
    const sum = newFleetCounters();
    for (const t of this.#threads)
      for (const key of Object.keys(sum) as (keyof FleetCounters)[]) sum[key] += t.counters[key];
    Object.assign(this.counters, sum);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    for (const reject of this.#onFailure) reject(error);
  }

  /** Rejects once a thread fails (at once if one has). */
  #failed(): Promise<never> {
    return new Promise<never>((_resolve, reject) => {
      if (this.#failure !== undefined) return reject(this.#failure);
      this.#onFailure.add(reject);
    });
  }

  /** Runs `run` or `heal` on every thread; an abort resolves at once (as Fleet's), a failed thread rejects. */
  async #phase(command: ToFleetThread): Promise<FleetOutcome> {
    const failed = this.#failed();
    failed.catch(() => {});
    await Promise.race([Promise.all(this.#threads.map((t) => t.ready)), failed]);
    const aborted = new Promise<FleetOutcome>((resolve) => {
      const abort = (): void => {
        for (const t of this.#threads) t.worker.postMessage({ kind: 'abort' } satisfies ToFleetThread);
        resolve({ aborted: true });
      };
      if (this.#signal.aborted) abort();
      else this.#signal.addEventListener('abort', abort, { once: true });
    });
    const done = Promise.all(
      this.#threads.map(
        (t) =>
          new Promise<boolean>((resolve) => {
            t.pending = (m) => resolve(m.kind === 'ran' || m.kind === 'healed' ? m.aborted : false);
            t.worker.postMessage(command);
          }),
      ),
    ).then((abortedEach) => ({ aborted: abortedEach.some((a) => a) }));
    return Promise.race([done, aborted, failed]);
  }
}
