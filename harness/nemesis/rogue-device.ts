// The rogue device (issue 11 "Device security"): a client calling itself AABBCCDDEEFF — on the embedded broker
// with a valid login of its own (a device gone bad, or a cloned one) — publishes as the fleet's first device: the
// metadata and chunks of an image that device never took, then an ACK_OK on that device's ack topic for its first
// image (a real device would drop a queued image of that name). The broker must refuse every one of them: then
// nothing is stored under the victim (I8), the victim loses nothing (I2, I5). On a broker that lets anyone publish
// anywhere (no ACL), the fake image is stored as the victim's and I8 fails.
import { synthesizeJpeg } from '../../simulator/firmware/image.ts';
import { encodeDeviceMessage, encodeServerMessage, type WireMessage } from '../../simulator/protocol/index.ts';
import type { History } from '../history/history.ts';
import type { Clock } from '../world/clock.ts';
import type { DeviceTransportFactory } from '../world/world.ts';
import type { FaultScheduler } from './fault-scheduler.ts';

/** The rogue's own client id (and, on the embedded broker, its login). */
export const ROGUE_MAC = 'AABBCCDDEEFF';
/** A name no device of a run reaches (a device captures far fewer images): the fake image is easy to tell. */
export const ROGUE_IMAGE_NAME = 'image_20.jpg';
const ROGUE_IMAGE_BYTES = 2_500;
const ROGUE_CHUNK_BYTES = 1_024;
/** How long the rogue waits for its publishes to go out before it leaves (a refused one never gets its PUBACK). */
const ROGUE_LINGER_MS = 1_000;

/** What the rogue publishes as `victim` (fw350 dialect), in order. Pure. */
export function rogueMessages(victim: string): WireMessage[] {
  const bytes = synthesizeJpeg(20, ROGUE_IMAGE_BYTES);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += ROGUE_CHUNK_BYTES) chunks.push(bytes.subarray(at, at + ROGUE_CHUNK_BYTES));
  return [
    encodeDeviceMessage(
      {
        kind: 'metadata',
        device_id: victim,
        timestamp: '2026-01-14T10:00:00Z',
        image_name: ROGUE_IMAGE_NAME,
        image_id: 20,
        image_size: bytes.length,
        max_chunk_size: ROGUE_CHUNK_BYTES,
        total_chunk_count: chunks.length,
      },
      'fw350',
    ),
    ...chunks.map((payload, chunk_id) =>
      encodeDeviceMessage(
        { kind: 'chunk', device_id: victim, image_name: ROGUE_IMAGE_NAME, chunk_id, payload },
        'fw350',
      ),
    ),
    encodeServerMessage(victim, { kind: 'ack_ok', image_name: 'image_1.jpg' }, 'fw350'),
  ];
}

export interface RogueDeviceDeps {
  /** The world's device sessions (live: mqtt.js to the run's broker; sim: the router). */
  readonly transport: DeviceTransportFactory;
  /** The device the rogue publishes as: the fleet's first (undefined: this process has none, nothing to do). */
  readonly victim: () => string | undefined;
  readonly history: History;
  readonly scheduler: FaultScheduler;
  readonly clock: Clock;
}

/** One rogue visit per trigger. */
export function planRogueDevice(triggers: readonly string[], deps: RogueDeviceDeps): void {
  for (const trigger of triggers)
    deps.scheduler.plan('rogue_device', trigger, async () => {
      const victim = deps.victim();
      if (victim === undefined) return;
      let lost = false;
      const transport = deps.transport(
        { clientId: ROGUE_MAC, qos: 1, connectTimeoutMs: 5_000 },
        { onMessage: () => {}, onLost: () => (lost = true) },
      );
      try {
        await transport.connect([]);
      } catch (error) {
        // A broker that does not let it in at all: nothing was published, and the visit is not counted as one
        // (the rogue_device exercise).
        deps.history.append({
          type: 'nemesis',
          fault: 'rogue_device_shut_out',
          target: victim,
          detail: `client ${ROGUE_MAC} could not connect: ${error instanceof Error ? error.message : String(error)}`,
        });
        return;
      }
      deps.history.append({
        type: 'nemesis',
        fault: 'rogue_device',
        target: victim,
        detail: `client ${ROGUE_MAC} publishes ${ROGUE_IMAGE_NAME} and an ACK_OK as ${victim}`,
      });
      for (const message of rogueMessages(victim)) {
        if (lost) break; // the broker closed the connection over a refused publish
        try {
          transport.publish(message.topic, message.payload);
        } catch {
          break;
        }
      }
      await deps.clock.sleep(ROGUE_LINGER_MS);
      await transport.disconnect({ flush: false });
    });
}
