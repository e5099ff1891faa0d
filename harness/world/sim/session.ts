// One client's session at the in-memory router (MQTT 3.1.1 §4.1): its subscriptions, its QoS 1 messages in flight
// (sent, not yet PUBACKed) and its queue of messages waiting for an in-flight slot, with Mosquitto's default limits.
//
// What is modelled of Mosquitto 2.0 (src/database.c, db__message_insert / db__ready_for_flight /
// db__ready_for_queue, as of v2.0.20; mosquitto.conf(5) for the defaults):
// - max_inflight_messages (default 20): at most that many outgoing QoS 1 messages un-PUBACKed per client; more wait
//   in the client's queue and are sent, oldest first, as PUBACKs free slots.
// - max_queued_messages (default 1000): QoS 1 messages beyond the queue are silently dropped (counted here). For a
//   connected client Mosquitto compares `queued - max_inflight < max_queued`, so up to 1000 + 20 wait behind the 20
//   in flight; for a disconnected persistent session the comparison is `queued < max_queued`. Both are kept.
// - QoS 0 to a connected client is sent unless the client's backlog of unsent packets has reached
//   max_queued_messages (then dropped); to a disconnected client it is dropped (queue_qos0_messages false, and
//   §3.1.2.4 only asks that QoS 1 and 2 be kept).
// - One deliberate difference: Mosquitto sends a QoS 0 message at once even while QoS 1 messages of the same
//   publisher wait in the queue, so it can overtake them. Here it waits behind them, so that "deliveries from one
//   publisher to one subscriber never overtake each other" holds for mixed QoS too (camfleet uses one QoS per
//   link, so this never changes what a run sees).
// - 0 for either limit means no maximum, as in Mosquitto.
import type { QoS, Subscriber } from './subscription-index.ts';

export interface RoutedMessage {
  readonly publisherId: string;
  readonly topic: string;
  readonly payload: Buffer;
}

/** One message on its way to one subscriber session. */
export interface Outgoing {
  /** Unique across the router, increasing in routing order: the FIFO order of `Router.deliverable()`. */
  readonly id: number;
  readonly message: RoutedMessage;
  /** min(publish QoS, granted subscription QoS) (§3.8.4 [MQTT-3.8.4-6]). */
  readonly qos: QoS;
  /** The DUP flag of its next PUBLISH: set once it has been sent and is sent again (§3.3.1.1, §4.4). */
  dup: boolean;
  /** A duplicate made by the delivery filter: not in flight, never PUBACKed, lost with its connection. */
  readonly copy: boolean;
}

export interface QueueLimits {
  readonly maxInflight: number;
  readonly maxQueued: number;
}

export type Admission = 'send' | 'queue' | 'drop';

export class Session implements Subscriber {
  readonly subscriptions = new Map<string, QoS>();
  /** QoS 1 messages sent and not yet PUBACKed (on the wire, or handed to a client that holds its PUBACK back). */
  readonly inflight: Outgoing[] = [];
  /** Messages waiting for an in-flight slot, oldest first (Mosquitto's per-client queue). */
  readonly queued: Outgoing[] = [];
  private queuedQos1 = 0;
  /** Messages this session lost to the queue limits. */
  dropped = 0;

  constructor(
    readonly clientId: string,
    /** cleanSession of the CONNECT that created it (§3.1.2.4): a clean session ends with its connection. */
    readonly clean: boolean,
    readonly seq: number,
  ) {}

  /**
   * Where a new message for this session goes. `backlog` is the number of messages already sent on the client's
   * connection and not yet handed to it (Mosquitto's unsent packets), which limits QoS 0.
   */
  admit(qos: QoS, online: boolean, backlog: number, limits: QueueLimits): Admission {
    const { maxInflight, maxQueued } = limits;
    if (qos === 0) {
      if (!online) return 'drop';
      const waiting = backlog + (this.queued.length - this.queuedQos1);
      if (maxQueued > 0 && waiting >= maxQueued) return 'drop';
      return this.queued.length > 0 ? 'queue' : 'send';
    }
    if (online && this.queued.length === 0 && this.hasInflightRoom(maxInflight)) return 'send';
    const adjust = online ? maxInflight : 0;
    return maxQueued === 0 || this.queuedQos1 - adjust < maxQueued ? 'queue' : 'drop';
  }

  hasInflightRoom(maxInflight: number): boolean {
    return maxInflight === 0 || this.inflight.length < maxInflight;
  }

  /** Records a message admitted with 'send': a QoS 1 one is in flight from now on. */
  launched(entry: Outgoing): void {
    if (entry.qos === 1) this.inflight.push(entry);
  }

  enqueue(entry: Outgoing): void {
    this.queued.push(entry);
    if (entry.qos === 1) this.queuedQos1++;
  }

  /** The oldest queued message if it may be sent now (a QoS 0 one needs no slot), removed from the queue. */
  nextToSend(maxInflight: number): Outgoing | undefined {
    const head = this.queued[0];
    if (!head || (head.qos === 1 && !this.hasInflightRoom(maxInflight))) return undefined;
    this.queued.shift();
    if (head.qos === 1) {
      this.queuedQos1--;
      this.inflight.push(head);
    }
    return head;
  }

  /** A PUBACK (or a filter's drop) ends a message's flight; false if it was not in flight. */
  settle(entry: Outgoing): boolean {
    const i = this.inflight.indexOf(entry);
    if (i < 0) return false;
    this.inflight.splice(i, 1);
    return true;
  }

  /** How many messages a session that ends now throws away. */
  get held(): number {
    return this.inflight.length + this.queued.length;
  }
}
