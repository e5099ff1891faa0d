// The live world: devices and the pipeline reach the run's broker (aedes in this process, or MQTT_URL) over TCP
// through the mqtt.js adapters (simulator/transport/mqtt-transport.ts; the pipeline's on a thread of its own,
// harness/pipeline/consumer-thread.ts). The broker
// itself is opened and stopped by whoever made it (world/broker.ts); the world only connects to it.
import { createMqttTransport } from '../../../simulator/transport/mqtt-transport.ts';
import { consumerThreadLink } from '../../pipeline/consumer-thread.ts';
import type { Broker } from '../broker.ts';
import type { Clock } from '../clock.ts';
import { redactUrl } from '../redact.ts';
import { brokerEndpoint } from '../broker-auth.ts';
import type { World } from '../world.ts';
import { realClock } from './real-clock.ts';

/** The broker is only read for its URL (the same across an embedded broker's restarts) and its devices' logins:
 *  a device logs in as itself (its MAC), never with the service account the URL may carry. */
export function liveWorld(broker: Pick<Broker, 'url' | 'auth' | 'ca'>, clock: Clock = realClock): World {
  const auth = broker.auth;
  // A broker of the user's: every device logs in as the URL says; the embedded one: each as itself.
  const { url: deviceUrl, ...urlLogin } = brokerEndpoint(broker.url);
  return {
    mode: 'live',
    clock,
    brokerLabel: redactUrl(broker.url),
    deviceTransport: (o, events) =>
      createMqttTransport(
        {
          brokerUrl: deviceUrl,
          ...(auth === undefined ? urlLogin : auth.device(o.clientId)),
          ...(broker.ca === undefined ? {} : { ca: broker.ca }),
          ...o,
        },
        events,
      ),
    // The link's timers (pressure poll, end's bounded wait) follow the world's clock unless the caller names one.
    pipelineLink: consumerThreadLink(broker.url, clock, broker.ca),
  };
}
