// The sim world: devices and the pipeline attach to the in-memory router (router.ts) through its adapters
// (device-transport.ts, router-link.ts), which behave as the mqtt.js ones do. Whoever made the router decides its
// delivery mode ('auto' drains in microtasks; 'manual' leaves every delivery to a scheduler) and its timers; the
// world only attaches clients to it.
import type { Clock } from '../clock.ts';
import type { World } from '../world.ts';
import { createDeviceTransport } from './device-transport.ts';
import { connectRouterLink } from './router-link.ts';
import type { Router } from './router.ts';

export const SIM_BROKER_LABEL = 'sim://router';

export interface SimWorldOptions {
  /** Device publishes take virtual time to leave the device (device-transport.ts); default none. */
  readonly deviceUplinkBytesPerMs?: number;
}

export function simWorld(router: Router, clock: Clock, options: SimWorldOptions = {}): World {
  const bytesPerMs = options.deviceUplinkBytesPerMs;
  const uplink = bytesPerMs === undefined ? undefined : { clock, bytesPerMs };
  return {
    mode: 'sim',
    clock,
    brokerLabel: SIM_BROKER_LABEL,
    router,
    // connectTimeoutMs means nothing here: the router accepts or refuses a CONNECT at once.
    deviceTransport: (o, events) =>
      createDeviceTransport(
        router,
        { clientId: o.clientId, qos: o.qos, ...(uplink === undefined ? {} : { uplink }) },
        events,
      ),
    pipelineLink: async ({ consumers, ...o }) => {
      // The router models one connection per client and no shared subscriptions (simulate refuses --workers there).
      if ((consumers ?? 1) > 1) throw new Error('the sim world has no shared subscriptions: one consumer only');
      return connectRouterLink(router, { url: SIM_BROKER_LABEL, ...o });
    },
  };
}
