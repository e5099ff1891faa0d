// The drop-puback point's aedes side (puback-points.ts decides which publish): aedes offers no hook on the PUBACK
// it sends a publisher, so this one sits where it does write it. handlePublish (aedes lib/handlers/publish.js)
// runs authorizePublish and then, for QoS 1, `write(client, new PubAck(packet))` — mqtt-packet's writeToStream onto
// `client.conn` — inside the callback authorizePublish is given, synchronously, before it publishes the message.
// So for the one publish to drop, our authorizePublish calls that callback with `client.conn` swapped for a sink:
// the PUBACK's bytes go nowhere, the message is still published to the subscribers. The point is recorded struck
// only once the sink shows it took exactly that PUBACK; an aedes that writes it later is a misfire: the point is
// recorded missed (E1 unknown), never struck without its drop.
// Follows the embedded broker through restarts (a new aedes instance each time).
import type { Aedes, Client } from 'aedes';
import type { EmbeddedBroker } from '../world/broker.ts';
import type { PubackPoints } from './puback-points.ts';

export interface AedesPubackDrop {
  /** PUBACKs of struck publishes that the sink did not take (0 unless aedes changed how it acknowledges). */
  readonly misfires: () => number;
  readonly uninstall: () => void;
}

/** MQTT 3.1.1 §3.4: PUBACK is 0x40, remaining length 2, then the packet identifier. */
function isPubackOf(bytes: Buffer, messageId: number): boolean {
  return bytes.length === 4 && bytes[0] === 0x40 && bytes[1] === 2 && bytes.readUInt16BE(2) === messageId;
}

/** Runs `fn` with the client's connection swapped for a sink; returns what was written meanwhile. */
function writesSwallowed(client: Client, fn: () => void): Buffer {
  const holder = client as unknown as { conn: unknown };
  const real = holder.conn;
  const taken: Buffer[] = [];
  holder.conn = {
    write: (chunk: Uint8Array | string) => (taken.push(Buffer.from(chunk)), true),
    cork: () => {},
    uncork: () => {},
    destroyed: false,
  };
  try {
    fn();
  } finally {
    holder.conn = real;
  }
  return Buffer.concat(taken);
}

export function installAedesPubackDrop(broker: EmbeddedBroker, points: PubackPoints): AedesPubackDrop {
  let misfires = 0;
  let detach: (() => void) | undefined;
  const attach = (aedes: Aedes): void => {
    detach?.();
    const previous = aedes.authorizePublish;
    const hook: Aedes['authorizePublish'] = (client, packet, callback) => {
      previous.call(aedes, client, packet, (error) => {
        const strike =
          error == null && client !== null && packet.qos === 1 && typeof client.id === 'string'
            ? points.take(client.id, packet.topic, toBytes(packet.payload))
            : undefined;
        if (strike === undefined || client === null) return callback(error);
        const written = writesSwallowed(client, () => callback(null));
        if (isPubackOf(written, packet.messageId ?? -1)) return strike.dropped();
        misfires++;
        // Not struck after all (its PUBACK went out, or something else was swallowed): missed, E1 unknown.
        strike.notDropped(
          `aedes did not write its PUBACK inside authorizePublish's callback (${written.length} bytes)`,
        );
      });
    };
    aedes.authorizePublish = hook;
    detach = () => {
      if (aedes.authorizePublish === hook) aedes.authorizePublish = previous;
    };
  };
  attach(broker.aedes);
  const stopFollowing = broker.onAedes(attach);
  return {
    misfires: () => misfires,
    uninstall: () => {
      stopFollowing();
      detach?.();
      detach = undefined;
    },
  };
}

function toBytes(payload: string | Buffer | Uint8Array): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}
