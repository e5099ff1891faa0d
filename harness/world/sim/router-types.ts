// The in-memory router's public types: what it is configured with, what it shows a scheduler and a nemesis, and what
// an adapter hands it. The model itself is in router.ts.
import type { QoS } from './subscription-index.ts';

export type { QoS };

/** The part of the clock seam the router may use (harness/world/clock.ts's Clock fits). */
export interface RouterTimers {
  setTimeout(fn: () => void, afterMs: number): unknown;
}

export interface RouterOptions {
  /** Keep persistent sessions across restart() (Mosquitto `persistence true`); default false (aedes in memory). */
  readonly persistence?: boolean;
  /** Mosquitto max_inflight_messages; default 20, 0 = no maximum. */
  readonly maxInflightMessages?: number;
  /** Mosquitto max_queued_messages; default 1000, 0 = no maximum. */
  readonly maxQueuedMessages?: number;
  /** 'auto' (default): deliveries drain oldest first in a microtask. 'manual': only deliver()/drain() deliver. */
  readonly delivery?: 'auto' | 'manual';
  readonly timers?: RouterTimers;
  readonly filter?: DeliveryFilter;
}

/** One PUBLISH as the broker received it from a client, before its PUBACK goes back. */
export interface ReceivedPublish {
  readonly publisherId: string;
  readonly topic: string;
  /** The router's copy: do not modify. */
  readonly payload: Buffer;
  readonly qos: QoS;
}

/** The nemesis' say over the PUBACK of one QoS 1 publish (aedes: the PubAck write of handlePublish): true drops it.
 *  The message is routed all the same (the broker has it); only its acknowledgement to the publisher is lost. */
export type PubackFilter = (publish: ReceivedPublish) => boolean;

/** The broker's auth on one PUBLISH (broker-auth.ts): why `publisherId` may not publish on `topic`, or undefined. */
export type PublishAuthorizer = (publisherId: string, topic: string) => string | undefined;

/** One deliverable message: the head of one (publisher, subscriber connection) FIFO. */
export interface Delivery {
  /** Unique; increasing in routing order (a redelivery keeps its id, a filter's duplicate gets a new one). */
  readonly id: number;
  readonly connectionId: number;
  readonly subscriberId: string;
  readonly publisherId: string;
  readonly topic: string;
  /** The router's copy: do not modify (each client is handed a copy of its own). */
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly dup: boolean;
}

/** The nemesis' say over one delivery, like aedes' authorizeForward: 'drop' loses it for that subscriber (a QoS 1
 *  one too: its flight ends as if never sent), 'duplicate' hands it over and puts a DUP copy first in its FIFO,
 *  'hold' takes it off the wire (its flight ends, as with 'drop') and keeps it aside under its delivery id until
 *  `release(id)` (a reorder or a delay: what the live nemesis does by returning null and publishing it again). */
export type DeliveryVerdict = 'deliver' | 'drop' | 'duplicate' | 'hold';
export type DeliveryFilter = (delivery: Delivery) => DeliveryVerdict;

/** What the router tells an observer (the nemesis), like aedes' 'client' and 'publish' events. Called inside
 *  connect() and publish() (after routing), so an observer may cut the client right there. */
export interface RouterObserver {
  connected?(connection: RouterConnection): void;
  published?(connection: RouterConnection, topic: string): void;
}

/** What an adapter hands the router for one connection. */
export interface ClientEndpoint {
  receive(topic: string, payload: Buffer): void;
  /** The router cut the connection (takeover, restart, kill). Called in a microtask, never inside the cut. */
  lost(reason: string): void;
  /** Read after each delivery: while true, its PUBACK and every later delivery to this client are held back. */
  pressured?(): boolean;
}

export interface RouterConnection {
  readonly id: number;
  readonly clientId: string;
  readonly open: boolean;
}

export class BrokerDownError extends Error {
  override readonly name = 'BrokerDownError';
}

export interface RouterStats {
  published: number;
  /** Per-subscriber copies made by publishes. */
  routed: number;
  /** Handed to a client's handler (duplicates and redeliveries included). */
  delivered: number;
  /** Un-PUBACKed QoS 1 messages sent again, DUP set, to a resumed session. */
  redelivered: number;
  droppedQueueFull: number;
  /** QoS 0 messages for a disconnected session or beyond a connected one's backlog limit. */
  droppedQos0: number;
  filteredOut: number;
  duplicated: number;
  /** Taken off the wire by the filter's 'hold'; released later, or lost with their connection. */
  held: number;
  /** QoS 0 messages, filter copies and held messages on the wire to (or aside for) a connection when it closed. */
  lostInTransit: number;
  /** In-flight and queued messages thrown away with their session (clean disconnect, restart). */
  discarded: number;
  /** PUBACKs to publishers the PUBACK filter dropped. */
  pubacksDropped: number;
  /** Publishes the broker's auth refused (their publisher cut). */
  refused: number;
}

export interface SessionInfo {
  readonly clean: boolean;
  readonly connected: boolean;
  readonly subscriptions: ReadonlyArray<readonly [string, QoS]>;
  readonly inflight: number;
  readonly queued: number;
  readonly dropped: number;
}

export function zeroStats(): RouterStats {
  return {
    published: 0,
    routed: 0,
    delivered: 0,
    redelivered: 0,
    droppedQueueFull: 0,
    droppedQos0: 0,
    filteredOut: 0,
    duplicated: 0,
    held: 0,
    lostInTransit: 0,
    discarded: 0,
    pubacksDropped: 0,
    refused: 0,
  };
}
