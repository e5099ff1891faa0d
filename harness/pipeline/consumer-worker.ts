// The pipeline's consumer thread (consumer-thread.ts has the model): its MQTT connections read, PUBACK and hand
// messages to the main thread in batches, and stop acknowledging once `queueMax` are handed over and not yet
// taken: the broker then holds the rest (mqtt-link.ts's backpressure, here on the thread's own count).
import { parentPort, workerData } from 'node:worker_threads';
import type { ConsumerData, FromConsumer, ToConsumer } from './consumer-messages.ts';
import { connectMqttLink, type MqttLink } from './mqtt-link.ts';
import { errorText } from './store/pool.ts';

const port = parentPort;
if (port === null) throw new Error('consumer-worker.ts runs as a worker thread');
const data = workerData as ConsumerData;
const say = (m: FromConsumer): void => port.postMessage(m);

let handedOver = 0;
let taken = 0;
let topics: string[] = [];
let payloads: Uint8Array[] = [];
let flushQueued = false;

function flush(): void {
  flushQueued = false;
  if (topics.length === 0) return;
  say({ kind: 'messages', topics, payloads });
  topics = [];
  payloads = [];
}

function onMessage(topic: string, payload: Buffer): void {
  topics.push(topic);
  payloads.push(payload); // copied by postMessage (mqtt.js may slice it from a shared buffer)
  handedOver++;
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

const links: MqttLink[] = [];

async function answer(id: number, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
    say({ kind: 'done', id });
  } catch (error) {
    say({ kind: 'done', id, error: errorText(error) });
  }
}

port.on('message', (m: ToConsumer) => {
  switch (m.kind) {
    case 'credit':
      taken += m.messages;
      return;
    case 'publish': {
      const link = links[0];
      void answer(m.id, () =>
        link === undefined ? Promise.reject(new Error('not connected')) : link.publish(m.topic, m.payload),
      );
      return;
    }
    case 'unsubscribe':
      void answer(m.id, () => Promise.all(links.map((l) => l.unsubscribe())));
      return;
    case 'end':
      void answer(m.id, () => Promise.all(links.map((l) => l.end())));
      return;
    case 'destroy':
      void answer(m.id, () => Promise.all(links.map((l) => l.destroy())));
      return;
  }
});

try {
  for (const clientId of data.clientIds) {
    links.push(
      await connectMqttLink({
        url: data.url,
        ca: data.ca,
        clientId,
        subscriptions: data.subscriptions,
        log: (line) => say({ kind: 'log', line }),
        onMessage,
        pressured: () => handedOver - taken >= data.queueMax,
      }),
    );
  }
  say({ kind: 'ready' });
} catch (error) {
  await Promise.all(links.map((l) => l.destroy().catch(() => {})));
  say({ kind: 'failed', message: errorText(error) });
  port.close();
}
