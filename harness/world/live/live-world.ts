// The live world: devices and the pipeline reach the run's broker (aedes in this process, or MQTT_URL) over TCP
// through the mqtt.js adapters (simulator/transport/mqtt-transport.ts; the pipeline's on a thread of its own,
// harness/pipeline/consumer-thread.ts). The broker
// itself is opened and stopped by whoever made it (world/broker.ts); the world only connects to it.
import { createMqttTransport } from '../../../simulator/transport/mqtt-transport.ts';
import { consumerThreadLink } from '../../pipeline/consumer-thread.ts';
import type { Broker } from '../broker.ts';
import type { Clock } from '../clock.ts';
import { redactUrl } from '../redact.ts';
import type { World } from '../world.ts';
import { realClock } from './real-clock.ts';

/** The broker is only read for its URL (the same across an embedded broker's restarts). */
export function liveWorld(broker: Pick<Broker, 'url'>, clock: Clock = realClock): World {
  return {
    mode: 'live',
    clock,
    brokerLabel: redactUrl(broker.url),
    deviceTransport: (o, events) => createMqttTransport({ brokerUrl: broker.url, ...o }, events),
    // The link's timers (pressure poll, end's bounded wait) follow the world's clock unless the caller names one.
    pipelineLink: consumerThreadLink(broker.url, clock),
  };
}
