// The broker ceiling's counting side, on a thread of its own (as the pipeline's consumer thread is): `count`
// connections (a shared subscription group when more than one) subscribe at QoS 1 and count what arrives; the main
// thread asks for the count and the time of the last delivery.
import mqtt, { type MqttClient } from 'mqtt';
import { parentPort, workerData } from 'node:worker_threads';

export interface SubscribersData {
  readonly url: string;
  readonly filter: string;
  readonly group: string;
  readonly count: number;
}
export type SubscribersReport =
  { readonly kind: 'ready' } | { readonly kind: 'count'; readonly delivered: number; readonly lastDeliveryMs: number };

const port = parentPort;
if (port === null) throw new Error('ceiling-subscribers.ts runs as a worker thread');
const data = workerData as SubscribersData;
let delivered = 0;
let lastDeliveryMs = 0;
const clients: MqttClient[] = [];
for (let i = 0; i < data.count; i++) {
  const c = await mqtt.connectAsync(data.url, { clientId: `${data.group}-sub-${i}`, clean: true }, false);
  c.on('message', () => {
    delivered++;
    lastDeliveryMs = performance.timeOrigin + performance.now();
  });
  await c.subscribeAsync(data.count > 1 ? `$share/${data.group}/${data.filter}` : data.filter, { qos: 1 });
  clients.push(c);
}
port.on('message', (m: 'count' | 'stop') => {
  if (m === 'count') port.postMessage({ kind: 'count', delivered, lastDeliveryMs } satisfies SubscribersReport);
  else void Promise.all(clients.map((c) => c.endAsync(true))).then(() => port.close());
});
port.postMessage({ kind: 'ready' } satisfies SubscribersReport);
