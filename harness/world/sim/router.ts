// The sim world's MQTT broker: an in-memory model of MQTT 3.1.1 as camfleet uses it, with its own contract tests
// (harness/world/mqtt-contract.ts), not a mock. Device transports and pipeline links attach to it through the
// adapters in device-transport.ts and router-link.ts (re-exported here).
//
// The model (README.md beside harness/world/ has the long version):
// - publish() routes a message at once to every matching session (§4.7 filters, `$` topics, §3.3.5 overlaps) but
//   never delivers inside publish(): each delivery waits in a FIFO per (publisher, subscriber connection). The heads
//   of those FIFOs are what may happen next; a scheduler picks one with deliver(), or auto mode drains them oldest
//   first in a microtask. Deliveries of one publisher to one subscriber never overtake each other (§4.6); those of
//   different publishers interleave in whatever order the caller chooses.
// - QoS 0 and 1; a QoS 1 delivery is in flight until the client "PUBACKs" it, i.e. until its handler returned and
//   the client is not pressured (mqtt-link holds the PUBACK and every later packet while `pressured()`).
// - Clean and persistent sessions (§3.1.2.4), DUP redelivery after a reconnect (§4.4), takeover (§3.1.4),
//   Mosquitto's default in-flight window and queue limit (session.ts says what exactly), restart with or without
//   persistence, and the nemesis' hooks: a delivery filter (deliver, drop, duplicate, or hold until release(): a
//   reorder or a delay) and observers of connects and publishes (router-faults.test.ts).
// - Retained messages, wills, QoS 2 and keepalive are not modelled: camfleet's protocol uses none of them.
// - Deterministic: no real timers, no clock, no randomness. Only the optional injected `timers` are used, for auto
//   mode's poll of a pressured client and for a link's reconnect delay.
import { Session, type Outgoing, type QueueLimits } from './session.ts';
import { SubscriptionIndex, type QoS } from './subscription-index.ts';
import { isValidTopicFilter, isValidTopicName } from './topic-match.ts';
import {
  BrokerDownError,
  type ClientEndpoint,
  type Delivery,
  type DeliveryFilter,
  type PubackFilter,
  type PublishAuthorizer,
  type RouterConnection,
  type RouterObserver,
  type RouterOptions,
  type RouterStats,
  type SessionInfo,
  zeroStats,
} from './router-types.ts';
import { Connection, describe, fifoHeads, type FifoHead } from './connection.ts';

export type * from './router-types.ts';
export { BrokerDownError } from './router-types.ts';

/** mqtt-link polls a pressured client this often; auto mode does the same with the injected timers. */
const PRESSURE_POLL_MS = 5;

export class Router {
  private readonly sessions = new Map<string, Session>();
  private readonly index = new SubscriptionIndex<Session>();
  /** Open connections by id, and by client id (at most one per client id, §3.1.4). */
  private readonly connections = new Map<number, Connection>();
  private readonly online = new Map<string, Connection>();
  private readonly blocked = new Set<Connection>();
  private readonly upListeners = new Set<() => void>();
  private readonly limits: QueueLimits;
  private readonly counters: RouterStats = zeroStats();
  private filter: DeliveryFilter | undefined;
  private pubackFilter: PubackFilter | undefined;
  private publishAuthorizer: PublishAuthorizer | undefined;
  private readonly observers = new Set<RouterObserver>();
  /** Which connection each held delivery (filter verdict 'hold') waits aside for, by delivery id. */
  private readonly asideOf = new Map<number, Connection>();
  private running = true;
  private nextEntryId = 1;
  private nextConnectionId = 1;
  private nextSessionSeq = 1;
  private drainQueued = false;
  private draining = false;
  private pollArmed = false;

  constructor(private readonly options: RouterOptions = {}) {
    this.limits = { maxInflight: options.maxInflightMessages ?? 20, maxQueued: options.maxQueuedMessages ?? 1000 };
    this.filter = options.filter;
  }

  // ---- clients (used by the adapters) ----

  /** CONNECT; throws BrokerDownError while the broker is down. */
  connect(clientId: string, clean: boolean, endpoint: ClientEndpoint): RouterConnection {
    if (!this.running) throw new BrokerDownError('connection refused: the broker is down');
    // §3.1.4 [MQTT-3.1.4-2]: a client id already connected is taken over; the old connection is closed.
    const current = this.online.get(clientId);
    if (current) this.cut(current, 'session taken over by a new connection with the same client id');
    let session = this.sessions.get(clientId);
    // §3.1.2.4: cleanSession 1 discards any previous session; 0 resumes it (or starts a persistent one).
    if (session && clean) {
      this.endSession(session);
      session = undefined;
    }
    const resumed = session !== undefined;
    if (!session) {
      session = new Session(clientId, clean, this.nextSessionSeq++);
      this.sessions.set(clientId, session);
    }
    const connection = new Connection(this.nextConnectionId++, session, endpoint);
    this.connections.set(connection.id, connection);
    this.online.set(clientId, connection);
    if (resumed) {
      // §4.4 [MQTT-4.4.0-1]: un-PUBACKed QoS 1 messages go again, in their original order, with DUP 1.
      for (const entry of session.inflight) {
        entry.dup = true;
        this.counters.redelivered++;
        this.place(connection, entry);
      }
      this.promote(connection);
      this.kick();
    }
    for (const o of [...this.observers]) o.connected?.(connection);
    return connection;
  }

  /** SUBSCRIBE: granted QoS per filter, 128 for an invalid one (§3.9.3). */
  subscribe(handle: RouterConnection, subscriptions: ReadonlyArray<{ filter: string; qos: QoS }>): Array<QoS | 128> {
    const c = this.live(handle, 'subscribe');
    return subscriptions.map(({ filter, qos }) => {
      if (!isValidTopicFilter(filter)) return 128;
      this.index.add(c.session, filter, qos);
      return qos;
    });
  }

  /** UNSUBSCRIBE: no new messages are routed for these filters; those already routed still arrive (§3.10.4). */
  unsubscribe(handle: RouterConnection, filters: readonly string[]): void {
    const c = this.live(handle, 'unsubscribe');
    for (const filter of filters) this.index.remove(c.session, filter);
  }

  /** PUBLISH from a connected client. Routes now; delivers later (never inside this call). */
  publish(handle: RouterConnection, topic: string, payload: string | Buffer, qos: QoS): void {
    const from = this.live(handle, 'publish');
    if (!isValidTopicName(topic)) throw new Error(`router: invalid topic name for PUBLISH: ${JSON.stringify(topic)}`);
    this.counters.published++;
    // The broker's auth (broker-auth.ts, as the embedded aedes holds it): a refused publish reaches nobody and the
    // broker closes the publisher's connection (MQTT-3.3.5-2: nothing goes back to it).
    const refusal = this.publishAuthorizer?.(from.clientId, topic);
    if (refusal !== undefined) {
      this.counters.refused++;
      this.cut(from, `not authorized: ${refusal}`);
      return;
    }
    const message = { publisherId: from.clientId, topic, payload: Buffer.from(payload) };
    for (const { session, qos: granted } of this.index.matching(topic)) {
      const entry: Outgoing = {
        id: this.nextEntryId++,
        message,
        qos: granted < qos ? granted : qos,
        dup: false,
        copy: false,
      };
      this.route(session, entry);
    }
    this.kick();
    // The PUBACK goes back once the message is routed (aedes writes it before publishing; either way the
    // subscribers get the message). The filter may drop it: the publisher then owes nothing but waits for it.
    if (qos === 1 && this.pubackFilter?.({ ...message, qos }) === true) {
      from.pubacksOwed++;
      this.counters.pubacksDropped++;
    }
    for (const o of [...this.observers]) o.published?.(from, topic);
  }

  /**
   * The client's own DISCONNECT (or its socket closing on its side): no lost() callback. A client still waiting
   * for a PUBACK sends none: mqtt.js' end() waits for its in-flight publishes (`outgoingEmpty`) before it
   * disconnects, and a clean client made for one session is never reconnected to re-send, so the connection stays
   * open (subscribed, messages still delivered to it) until the broker cuts it — the client id's next connection
   * takes it over (§3.1.4), or a restart.
   */
  close(handle: RouterConnection): void {
    const c = this.connections.get(handle.id);
    if (c && c.pubacksOwed === 0) this.detach(c);
  }

  // ---- the world around it (nemesis, scheduler) ----

  /** Cuts one client's connection from the broker side (a killed connection); false if it was not connected. */
  disconnectClient(clientId: string, reason = 'connection closed by the broker'): boolean {
    const c = this.online.get(clientId);
    if (!c) return false;
    this.cut(c, reason);
    return true;
  }

  get isUp(): boolean {
    return this.running;
  }

  /**
   * The broker goes away: every connection is cut (lost() fires). Without persistence every session and every
   * queued or in-flight message is gone (aedes in memory, Mosquitto without persistence); with it, persistent
   * sessions keep subscriptions, queued and un-PUBACKed messages (Mosquitto `persistence true`, stopped cleanly so
   * its database was saved). Connects fail until up().
   */
  down(): void {
    if (!this.running) return;
    this.running = false;
    for (const c of [...this.connections.values()]) this.cut(c, 'broker restart');
    if (!this.options.persistence) for (const s of [...this.sessions.values()]) this.endSession(s);
  }

  up(): void {
    if (this.running) return;
    this.running = true;
    const listeners = [...this.upListeners];
    this.upListeners.clear();
    for (const listener of listeners) listener();
  }

  restart(): void {
    this.down();
    this.up();
  }

  /** Calls `listener` once, when the broker is up again. Returns the way to cancel it. */
  onceUp(listener: () => void): () => void {
    this.upListeners.add(listener);
    return () => this.upListeners.delete(listener);
  }

  setFilter(filter: DeliveryFilter | undefined): void {
    this.filter = filter;
  }

  /** The nemesis' hook on publishers' PUBACKs (like wrapping aedes' PubAck write): asked for every QoS 1 publish,
   *  true drops its PUBACK (see close() for what the publisher does then). */
  setPubackFilter(filter: PubackFilter | undefined): void {
    this.pubackFilter = filter;
  }

  /** The broker's auth on publishes: a reason refuses the publish (nobody gets it) and cuts the publisher. */
  setPublishAuthorizer(authorize: PublishAuthorizer | undefined): void {
    this.publishAuthorizer = authorize;
  }

  /** Tells `observer` of every connect and publish from now on (aedes' 'client' and 'publish'). Returns the way
   *  to stop. */
  observe(observer: RouterObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * Puts a delivery the filter held back on the wire again, first in its publisher's FIFO to its connection, so it
   * goes behind whatever is being handed over now. It comes back as a copy — no flight, no PUBACK, not filtered
   * again, lost with its connection — as the live nemesis publishes a held message afresh. False when its
   * connection closed meanwhile (the message was lost then) or it was released already.
   */
  release(deliveryId: number): boolean {
    const c = this.asideOf.get(deliveryId);
    const entry = c?.aside.get(deliveryId);
    this.asideOf.delete(deliveryId);
    if (!c || !entry) return false;
    c.aside.delete(deliveryId);
    this.place(c, { ...entry, id: this.nextEntryId++, copy: true }, true);
    this.kick();
    return true;
  }

  /** Runs `fn` after `afterMs` on the injected timers, or in a microtask without them. */
  later(fn: () => void, afterMs: number): void {
    if (this.options.timers) this.options.timers.setTimeout(fn, afterMs);
    else queueMicrotask(fn);
  }

  // ---- stepping ----

  /** Every delivery that may happen next, oldest first. Looking also releases clients whose pressure cleared. */
  deliverable(): Delivery[] {
    this.releaseHeld();
    return fifoHeads(this.connections.values())
      .map((h) => describe(h.c, h.head))
      .sort((a, b) => a.id - b.id);
  }

  /** Hands one delivery from deliverable() to its client; throws if it is no longer deliverable. */
  deliver(delivery: Delivery): void {
    const c = this.connections.get(delivery.connectionId);
    const entries = c?.channels.get(delivery.publisherId);
    if (!c || c.blocked || !entries || entries[0]?.id !== delivery.id)
      throw new Error(`router: delivery ${delivery.id} is not deliverable now`);
    this.hand(c, delivery.publisherId, entries);
  }

  /** Delivers oldest first until nothing is deliverable (or `maxSteps`); returns how many were handed over. */
  drain(maxSteps = Number.POSITIVE_INFINITY): number {
    if (this.draining) return 0; // called from a handler: the drain already running goes on
    this.draining = true;
    let steps = 0;
    try {
      this.releaseHeld();
      while (steps < maxSteps) {
        const next = this.oldest();
        if (!next) break;
        this.hand(next.c, next.publisherId, next.entries);
        steps++;
      }
    } finally {
      this.draining = false;
    }
    this.armPoll();
    return steps;
  }

  stats(): RouterStats {
    return { ...this.counters };
  }

  session(clientId: string): SessionInfo | undefined {
    const s = this.sessions.get(clientId);
    if (!s) return undefined;
    return {
      clean: s.clean,
      connected: this.online.has(clientId),
      subscriptions: [...s.subscriptions],
      inflight: s.inflight.length,
      queued: s.queued.length,
      dropped: s.dropped,
    };
  }

  // ---- inside ----

  private live(handle: RouterConnection, what: string): Connection {
    const c = this.connections.get(handle.id);
    if (!c) throw new Error(`router: ${what} on a closed connection (${handle.clientId})`);
    return c;
  }

  private route(session: Session, entry: Outgoing): void {
    this.counters.routed++;
    const c = this.online.get(session.clientId);
    const admission = session.admit(entry.qos, c !== undefined, c?.backlog ?? 0, this.limits);
    if (admission === 'send' && c) {
      session.launched(entry);
      this.place(c, entry);
    } else if (admission === 'queue') {
      session.enqueue(entry);
    } else {
      session.dropped++;
      if (entry.qos === 1) this.counters.droppedQueueFull++;
      else this.counters.droppedQos0++;
    }
  }

  /** Puts a sent message on the wire to `c`: last in its publisher's FIFO. */
  private place(c: Connection, entry: Outgoing, first = false): void {
    const key = entry.message.publisherId;
    let entries = c.channels.get(key);
    if (!entries) c.channels.set(key, (entries = []));
    if (first) entries.unshift(entry);
    else entries.push(entry);
    c.backlog++;
  }

  /** Sends queued messages while in-flight slots are free, oldest first. */
  private promote(c: Connection): void {
    for (;;) {
      const next = c.open ? c.session.nextToSend(this.limits.maxInflight) : undefined;
      if (!next) return;
      this.place(c, next);
    }
  }

  private hand(c: Connection, publisherId: string, entries: Outgoing[]): void {
    const entry = entries.shift();
    if (!entry) return;
    if (entries.length === 0) c.channels.delete(publisherId);
    c.backlog--;
    const verdict = entry.copy || !this.filter ? 'deliver' : this.filter(describe(c, entry));
    if (verdict === 'drop' || verdict === 'hold') {
      if (verdict === 'drop') this.counters.filteredOut++;
      else {
        this.counters.held++;
        c.aside.set(entry.id, entry);
        this.asideOf.set(entry.id, c);
      }
      if (c.session.settle(entry)) this.promote(c);
      return;
    }
    if (verdict === 'duplicate') {
      this.counters.duplicated++;
      this.place(c, { ...entry, id: this.nextEntryId++, dup: true, copy: true }, true);
    }
    this.counters.delivered++;
    try {
      c.endpoint.receive(entry.message.topic, Buffer.from(entry.message.payload));
    } finally {
      this.afterReceive(c, entry);
    }
  }

  private afterReceive(c: Connection, entry: Outgoing): void {
    // The handler may have closed the connection: then no PUBACK went out (a persistent session keeps the message).
    if (!c.open) return;
    if (c.endpoint.pressured?.() === true) {
      // mqtt-link's handleMessage does not call `done`: no PUBACK yet, and mqtt.js reads no further packet.
      c.held = entry;
      c.blocked = true;
      this.blocked.add(c);
      return;
    }
    this.puback(c, entry);
  }

  private puback(c: Connection, entry: Outgoing): void {
    if (entry.qos === 1 && !entry.copy && c.session.settle(entry)) this.promote(c);
  }

  private releaseHeld(): void {
    for (const c of [...this.blocked]) {
      if (c.endpoint.pressured?.() === true) continue;
      this.blocked.delete(c);
      c.blocked = false;
      const held = c.held;
      c.held = undefined;
      if (held) this.puback(c, held);
    }
  }

  private oldest(): FifoHead | undefined {
    let best: FifoHead | undefined;
    for (const h of fifoHeads(this.connections.values())) if (best === undefined || h.head.id < best.head.id) best = h;
    return best;
  }

  /** Auto mode: one drain per burst of activity, in a microtask (never inside publish()). */
  private kick(): void {
    if (this.options.delivery === 'manual' || this.drainQueued || this.draining) return;
    this.drainQueued = true;
    queueMicrotask(() => {
      this.drainQueued = false;
      try {
        this.drain();
      } finally {
        // A handler threw: the rest still gets delivered, one microtask later.
        if (this.oldest()) this.kick();
      }
    });
  }

  /** Auto mode: a pressured client is looked at again every PRESSURE_POLL_MS, as mqtt-link does (with timers). */
  private armPoll(): void {
    const timers = this.options.timers;
    if (this.options.delivery === 'manual' || !timers || this.pollArmed || this.blocked.size === 0) return;
    this.pollArmed = true;
    timers.setTimeout(() => {
      this.pollArmed = false;
      this.drain();
    }, PRESSURE_POLL_MS);
  }

  private cut(c: Connection, reason: string): void {
    this.detach(c);
    queueMicrotask(() => c.endpoint.lost(reason));
  }

  private detach(c: Connection): void {
    c.open = false;
    this.connections.delete(c.id);
    if (this.online.get(c.clientId) === c) this.online.delete(c.clientId);
    this.blocked.delete(c);
    c.blocked = false;
    c.held = undefined;
    // What was on the wire to it is gone. Its QoS 1 messages are still in the session's flight (a resumed
    // session gets them again); QoS 0 ones and filter copies are lost.
    for (const entries of c.channels.values())
      for (const e of entries) if (e.qos === 0 || e.copy) this.counters.lostInTransit++;
    c.channels.clear();
    // Held deliveries were out of flight already (the filter took them off the wire): lost with the connection.
    for (const id of c.aside.keys()) this.asideOf.delete(id);
    this.counters.lostInTransit += c.aside.size;
    c.aside.clear();
    c.backlog = 0;
    if (c.session.clean) this.endSession(c.session);
  }

  private endSession(s: Session): void {
    if (this.sessions.get(s.clientId) !== s) return;
    this.counters.discarded += s.held;
    this.index.removeAll(s);
    this.sessions.delete(s.clientId);
  }
}
