// The World seam (ARCHITECTURE.md §8): what a run's fleet and pipeline talk through. Only the world differs between
// a live run and a sim run: live/live-world.ts gives mqtt.js sessions over TCP to aedes or MQTT_URL and real timers,
// sim/sim-world.ts gives sessions on the in-memory router and whatever clock the sim hands it. The fleet, the
// pipeline, the history and the checker are the same code on both.
//
// Not here yet, on purpose: the database (its seam is sql.ts; a sim run hands the actors a gated one through
// RunSeams.drive, not through the World). The nemesis' network hooks are the world's broker: live, aedes (reached
// through the broker the run opened); sim, the in-memory router (`router`: its delivery filter, observers and
// restart()).
import type { DeviceTransport, DeviceTransportEvents } from '../../simulator/transport/mqtt-transport.ts';
import type { PipelineLinkFactory } from '../pipeline/mqtt-link.ts';
import type { Clock } from './clock.ts';
import type { Router } from './sim/router.ts';

export type { DeviceTransport, DeviceTransportEvents } from '../../simulator/transport/mqtt-transport.ts';
export type { MqttLink, PipelineLinkFactory, PipelineLinkOptions } from '../pipeline/mqtt-link.ts';

/** One device's broker session, as the firmware sees it (PROTOCOL.md §1: client id = MAC). */
export interface DeviceTransportOptions {
  readonly clientId: string;
  readonly qos: 0 | 1;
  /** Live: how long mqtt.js waits for CONNACK. The router answers at once and ignores it. */
  readonly connectTimeoutMs: number;
}

export type DeviceTransportFactory = (
  options: DeviceTransportOptions,
  events: DeviceTransportEvents,
) => DeviceTransport;

export interface World {
  readonly mode: 'live' | 'sim';
  /** Every reading of the time and every timer of the fleet, the pipeline and the run. */
  readonly clock: Clock;
  /** A device's session to the broker. A plain function (no `this`), so it can be handed on as a factory. */
  readonly deviceTransport: DeviceTransportFactory;
  /** The pipeline's link (what connectMqttLink returns live). A plain function, like deviceTransport. */
  readonly pipelineLink: PipelineLinkFactory;
  /** For people and logs: the live broker's URL, redacted, or 'sim://router'. Never a secret. */
  readonly brokerLabel: string;
  /** The sim world's broker, where network faults and broker restarts act (harness/nemesis/sim-network-nemesis.ts,
   *  sim-broker.ts); undefined on a live world. */
  readonly router?: Router;
}
