// One client connection at the in-memory router: the FIFOs of messages on the wire to it (one per publisher) and
// whether its last delivery is held back by backpressure.
import type { ClientEndpoint, Delivery, RouterConnection } from './router-types.ts';
import type { Outgoing, Session } from './session.ts';

export class Connection implements RouterConnection {
  open = true;
  /** Sent and not yet handed over, per publisher id: the FIFOs whose heads are deliverable. */
  readonly channels = new Map<string, Outgoing[]>();
  backlog = 0;
  /** The last delivery, handed while the client was pressured (its PUBACK waits with it). */
  held: Outgoing | undefined;
  blocked = false;
  /** Taken off the wire by the filter's 'hold', by delivery id, until released (router.release). */
  readonly aside = new Map<number, Outgoing>();
  /** QoS 1 publishes of this client whose PUBACK the broker dropped: mqtt.js keeps them in flight (never re-sent
   *  by a clean client that is not reconnected), so its graceful end() waits and no DISCONNECT ever comes. */
  pubacksOwed = 0;

  constructor(
    readonly id: number,
    readonly session: Session,
    readonly endpoint: ClientEndpoint,
  ) {}

  get clientId(): string {
    return this.session.clientId;
  }
}

/** The head of one (publisher, subscriber connection) FIFO: what may be delivered next. */
export interface FifoHead {
  readonly c: Connection;
  readonly publisherId: string;
  readonly entries: Outgoing[];
  readonly head: Outgoing;
}

/** The head of every FIFO of every connection not held back by backpressure. */
export function fifoHeads(connections: Iterable<Connection>): FifoHead[] {
  const out: FifoHead[] = [];
  for (const c of connections) {
    if (c.blocked) continue;
    for (const [publisherId, entries] of c.channels) {
      const head = entries[0];
      if (head) out.push({ c, publisherId, entries, head });
    }
  }
  return out;
}

/** What a scheduler and the delivery filter see of one message on its way to `c`. */
export function describe(c: Connection, entry: Outgoing): Delivery {
  return {
    id: entry.id,
    connectionId: c.id,
    subscriberId: c.clientId,
    publisherId: entry.message.publisherId,
    topic: entry.message.topic,
    payload: entry.message.payload,
    qos: entry.qos,
    dup: entry.dup,
  };
}
