// Small helpers for the router's own tests: a device on the router that records what it receives.
import type { DeviceTransport } from '../../../simulator/transport/mqtt-transport.ts';
import { createDeviceTransport } from './device-transport.ts';
import type { QoS, Router } from './router.ts';
import { drainMicrotasks } from './scheduler.ts';

export interface RecordingDevice {
  readonly transport: DeviceTransport;
  /** "topic payload" per message, in arrival order. */
  readonly got: string[];
  readonly lost: string[];
  connect(subscriptions?: readonly string[]): Promise<void>;
}

export function recordingDevice(
  router: Router,
  clientId: string,
  options: { qos?: QoS; cleanSession?: boolean } = {},
): RecordingDevice {
  const got: string[] = [];
  const lost: string[] = [];
  const transport = createDeviceTransport(
    router,
    { clientId, qos: options.qos ?? 1, cleanSession: options.cleanSession ?? true },
    { onMessage: (topic, payload) => got.push(`${topic} ${payload.toString()}`), onLost: (r) => lost.push(r) },
  );
  return { transport, got, lost, connect: (subscriptions = []) => transport.connect(subscriptions) };
}

/** Lets queued microtasks (auto mode's drain, lost() callbacks) run. */
export const settle = drainMicrotasks;
