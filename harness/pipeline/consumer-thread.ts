// The broker-facing side on a thread of its own. The pipeline's MQTT connections (one, or several in a shared
// group) read, PUBACK and queue on a worker thread (consumer-worker.ts), so a burst is taken off the broker at the
// rate the thread reads, not at the rate the main thread — busy with decoding, lanes, the database and, in a
// simulate run, the devices — gets to its sockets. A broker that bounds what it keeps per subscriber (Mosquitto:
// 20 in flight, 1,000 queued, the rest dropped) otherwise drops a fleet's burst (PROTOCOL.md §7.8).
//
// The queue is bounded twice: the thread stops acknowledging once `queueMax` messages are handed over and not yet
// taken (the broker keeps the rest), and the main thread takes a batch only when its own lanes and chunk buffer
// are below their marks (the pipeline's `pressured`).
//
// What a crash loses: messages already PUBACKed and still queued here, in the pipeline's lanes or its chunk buffer.
// The broker forgets them; devices do not. A chunk lost so is asked for again (missing_chunks) by the restarted
// pipeline, which adopts transfers in flight; a lost metadata or HELLO leaves its device without an answer until its
// ACK timeout, and it sends the image again. Nothing a device dequeued is lost: it dequeues only on ACK_OK, which
// follows the commit (pipeline-faults.test.ts shows it).
import type { Worker } from 'node:worker_threads';
import type { Clock } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { spawnTsWorker } from '../world/live/ts-worker.ts';
import type { ConsumerData, FromConsumer, ToConsumer } from './consumer-messages.ts';
import { consumerClientIds, type MqttLink, type MqttLinkOptions, type PipelineLinkFactory } from './mqtt-link.ts';

/** Messages the thread may hand over before the main thread takes them. */
export const CONSUMER_QUEUE_MAX = 50_000;
const PRESSURE_POLL_MS = 5;

export interface ConsumerThreadOptions extends Omit<MqttLinkOptions, 'clientId'> {
  /** One connection each (a shared group's members when several). */
  readonly clientIds: readonly string[];
  /** Default CONSUMER_QUEUE_MAX. */
  readonly queueMax?: number;
}

export async function connectConsumerThread(o: ConsumerThreadOptions): Promise<MqttLink> {
  const clock: Clock = o.clock ?? realClock;
  const data: ConsumerData = {
    url: o.url,
    ca: o.ca,
    clientIds: o.clientIds,
    subscriptions: o.subscriptions,
    queueMax: o.queueMax ?? CONSUMER_QUEUE_MAX,
  };
  const worker: Worker = spawnTsWorker(new URL('./consumer-worker.ts', import.meta.url), data);
  const say = (m: ToConsumer): void => worker.postMessage(m);
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let gone = false;
  /** end() or destroy() was asked: the thread's exit is expected. */
  let stopping = false;
  let untaken = 0;
  let creditTimer = false;

  /** Credit what was taken once the pipeline is below its marks (polling while it is not). */
  const credit = (): void => {
    if (untaken === 0 || creditTimer || gone) return;
    if (o.pressured()) {
      creditTimer = true;
      clock.setTimeout(() => {
        creditTimer = false;
        credit();
      }, PRESSURE_POLL_MS);
      return;
    }
    say({ kind: 'credit', messages: untaken });
    untaken = 0;
  };

  const request = (make: (id: number) => ToConsumer): Promise<void> => {
    if (gone) return Promise.reject(new Error('the MQTT consumer thread has stopped'));
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      say(make(id));
    });
  };

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromConsumer) => {
      switch (m.kind) {
        case 'ready':
          resolve();
          return;
        case 'failed':
          stopping = true; // the thread exits next, as it says
          reject(new Error(m.message));
          return;
        case 'log':
          o.log(m.line);
          return;
        case 'messages':
          for (let i = 0; i < m.topics.length; i++) {
            const p = m.payloads[i];
            const topic = m.topics[i];
            if (p === undefined || topic === undefined) continue;
            try {
              o.onMessage(topic, Buffer.from(p.buffer, p.byteOffset, p.byteLength));
            } catch (error) {
              o.log(`pipeline: message handler failed on ${topic}: ${(error as Error).message}`);
            }
          }
          untaken += m.topics.length;
          credit();
          return;
        case 'done': {
          const w = waiting.get(m.id);
          waiting.delete(m.id);
          if (m.error === undefined) w?.resolve();
          else w?.reject(new Error(m.error));
          return;
        }
      }
    });
    worker.on('error', (error) => {
      o.log(`pipeline: the MQTT consumer thread failed: ${error.message}`);
      reject(error);
    });
    worker.on('exit', () => {
      if (!gone && !stopping) o.log('pipeline: the MQTT consumer thread stopped unexpectedly: no more messages arrive');
      gone = true;
      for (const w of waiting.values()) w.reject(new Error('the MQTT consumer thread has stopped'));
      waiting.clear();
      reject(new Error('the MQTT consumer thread stopped before it connected'));
    });
  });
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  const stop = async (how: 'end' | 'destroy'): Promise<void> => {
    stopping = true;
    await request((id) => ({ kind: how, id })).catch(() => {});
    gone = true;
    await worker.terminate();
  };
  return {
    publish: (topic, payload) => request((id) => ({ kind: 'publish', id, topic, payload })),
    unsubscribe: () => request((id) => ({ kind: 'unsubscribe', id })),
    end: () => stop('end'),
    destroy: () => stop('destroy'),
  };
}

/** A pipeline's link to the broker at `url` through a consumer thread: its `consumers` connections named from its
 *  client id (the live world's, and `startPipeline`'s when no world gives one). */
export function consumerThreadLink(url: string, clock?: Clock, ca?: string): PipelineLinkFactory {
  return ({ clientId, consumers, ...o }) =>
    connectConsumerThread({
      url,
      ...(ca === undefined ? {} : { ca }),
      clientIds: consumerClientIds(clientId, consumers),
      ...(clock === undefined ? {} : { clock }),
      ...o,
    });
}
