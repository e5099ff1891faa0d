// Network faults at the embedded broker's delivery seam (ARCHITECTURE.md §4): aedes calls `authorizeForward` once
// per delivery of a message to one subscriber, so one seeded draw there decides whether that delivery goes through,
// is dropped, delivered twice, held back behind the next delivery to the same subscriber (reorder) or delayed.
// Deliveries to the pipeline's client(s) (device → server: status, data) and to device clients (server → device:
// cmd, ack) are faulted; any other subscriber (an observer, a probe) and `$SYS` traffic are left alone. Separately,
// a device's session may be cut by the broker after one of its publishes (`disconnect`): counted in messages, not
// ms, so the cut lands inside the session however fast the machine is.
//
// Healing needs nothing here: devices recover lost chunks through the pipeline's missing_chunks requests and their
// own retries (PROTOCOL.md §4); the run calls `uninstall()` before its heal phase, which stops injecting and
// releases every message still held back.
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import { normaliseDeviceId } from '../../simulator/protocol/mac.ts';
import type { Rng } from '../../simulator/random/prng.ts';
import type { History } from '../history/history.ts';
import type { EmbeddedBroker } from '../world/broker.ts';
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import type { NetworkFaults } from './fault-plan.ts';

export type DeliveryFault = 'drop' | 'duplicate' | 'reorder' | 'delay';
export type DeliveryDecision = 'deliver' | DeliveryFault;

export type DeliveryRates = Pick<NetworkFaults, 'dropRate' | 'duplicateRate' | 'reorderRate' | 'delayRate'>;

/**
 * What happens to one delivery, from one uniform draw `u` in [0, 1): the rates are stacked in the order drop,
 * duplicate, reorder, delay, so a single draw decides (and the same draws give the same decisions).
 */
export function decideDelivery(u: number, rates: DeliveryRates): DeliveryDecision {
  let edge = rates.dropRate;
  if (u < edge) return 'drop';
  edge += rates.duplicateRate;
  if (u < edge) return 'duplicate';
  edge += rates.reorderRate;
  if (u < edge) return 'reorder';
  edge += rates.delayRate;
  if (u < edge) return 'delay';
  return 'deliver';
}

/**
 * Whether a device session is cut, and after which of its publishes, from one uniform draw: below `disconnectRate`
 * it is, and `u / rate` (uniform again) places the cut after publish 1..publishesMax. Null: left alone.
 */
export function decideDisconnect(u: number, disconnectRate: number, publishesMax: number): number | null {
  if (disconnectRate <= 0 || u >= disconnectRate) return null;
  return 1 + Math.floor((u / disconnectRate) * publishesMax);
}

export interface NetworkNemesisOptions {
  /** Client ids of the pipeline's MQTT connections start with this (the pipeline's default: `camfleet-pipeline`). */
  readonly pipelineClientIdPrefix: string;
  /** Also fault server → device deliveries (to clients whose id is a device id, PROTOCOL.md §1). Default true. */
  readonly deviceDeliveries?: boolean;
  /** A cut device session is cut after at most this many of its publishes (HELLO, metadata, chunks). Default 12. */
  readonly disconnectAfterPublishesMax?: number;
  /** A reordered message waits for the next delivery to its subscriber at most this long. Default 250. */
  readonly reorderHoldMsMax?: number;
  /** Reorder holds and delays run on it. Default realClock. */
  readonly clock?: Clock;
}

export interface NetworkNemesisStats {
  /** Deliveries the nemesis drew for (to a targeted subscriber, while installed). */
  readonly considered: number;
  readonly drop: number;
  readonly duplicate: number;
  /** Held back and released right behind the next delivery to the same subscriber (recorded when released; one
   *  that no next delivery overtook within `reorderHoldMsMax` is recorded as a `delay`). */
  readonly reorder: number;
  readonly delay: number;
  readonly disconnect: number;
  /** Held or delayed messages whose subscriber was gone when they were due (they became drops). */
  readonly lostHeld: number;
}

export interface NetworkNemesis {
  stats(): NetworkNemesisStats;
  /** Stops injecting, releases held messages at once, removes the hooks from the current aedes instance. */
  uninstall(): void;
}

interface Held {
  readonly client: Client;
  readonly packet: AedesPublishPacket;
  readonly timer: TimerHandle;
}

/** Re-deliveries are tagged with this broker id so our own hook lets them through (aedes dedupes per broker id). */
const REDELIVERY_BROKER_ID = 'camfleet-nemesis';

class NetworkNemesisCore implements NetworkNemesis {
  private active = true;
  private aedes: Aedes | undefined;
  private detachHooks: (() => void) | undefined;
  private readonly counts = {
    considered: 0,
    drop: 0,
    duplicate: 0,
    reorder: 0,
    delay: 0,
    disconnect: 0,
    lostHeld: 0,
  };
  /** At most one message held back per subscriber (reorder). */
  private readonly held = new Map<Client, Held>();
  private readonly delayed = new Set<Held>();
  /** Device sessions to cut: publishes left before the cut. */
  private readonly cutAfter = new Map<Client, number>();
  private redeliveryCounter = 0;
  private readonly deviceDeliveries: boolean;
  private readonly disconnectAfterPublishesMax: number;
  private readonly reorderHoldMsMax: number;
  private readonly clock: Clock;

  constructor(
    private readonly faults: NetworkFaults,
    private readonly rng: Rng,
    private readonly history: History,
    private readonly opts: NetworkNemesisOptions,
  ) {
    this.deviceDeliveries = opts.deviceDeliveries ?? true;
    this.disconnectAfterPublishesMax = opts.disconnectAfterPublishesMax ?? 12;
    this.reorderHoldMsMax = opts.reorderHoldMsMax ?? 250;
    this.clock = opts.clock ?? realClock;
  }

  stats(): NetworkNemesisStats {
    return { ...this.counts };
  }

  /** Installs the hooks on `aedes` (after a broker restart: on the new instance). */
  attach(aedes: Aedes): void {
    if (!this.active) return;
    this.detach();
    this.aedes = aedes;
    const previous = aedes.authorizeForward;
    const hook = (client: Client, packet: AedesPublishPacket): AedesPublishPacket | null | void => {
      const passed = previous.call(aedes, client, packet);
      if (!passed) return passed;
      return this.onDelivery(client, passed);
    };
    aedes.authorizeForward = hook;
    const onClient = (client: Client) => this.onConnect(client);
    aedes.on('client', onClient);
    const onPublish = (_packet: AedesPublishPacket, client: Client | null) => {
      if (client) this.onPublish(client);
    };
    aedes.on('publish', onPublish);
    this.detachHooks = () => {
      if (aedes.authorizeForward === hook) aedes.authorizeForward = previous;
      aedes.removeListener('client', onClient);
      aedes.removeListener('publish', onPublish);
    };
  }

  private detach(): void {
    this.detachHooks?.();
    this.detachHooks = undefined;
    this.aedes = undefined;
  }

  uninstall(): void {
    if (!this.active) return;
    this.active = false;
    this.detach();
    this.cutAfter.clear();
    for (const h of this.held.values()) {
      this.clock.clearTimeout(h.timer);
      this.record('delay', h.client, h.packet);
      this.redeliver(h.client, h.packet);
    }
    this.held.clear();
    for (const d of this.delayed) {
      this.clock.clearTimeout(d.timer);
      this.redeliver(d.client, d.packet);
    }
    this.delayed.clear();
  }

  private isTarget(client: Client): boolean {
    const id = client.id;
    if (typeof id !== 'string') return false;
    if (id.startsWith(this.opts.pipelineClientIdPrefix)) return true;
    return this.deviceDeliveries && normaliseDeviceId(id) === id;
  }

  private onDelivery(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    if (!this.active || packet.brokerId === REDELIVERY_BROKER_ID) return packet;
    if (packet.topic.startsWith('$') || !this.isTarget(client)) return packet;
    this.counts.considered++;
    let decision = decideDelivery(this.rng.next(), this.faults);
    const heldBefore = this.held.get(client);
    if (heldBefore) {
      // A second reorder for the same subscriber meanwhile would reorder nothing: this delivery goes through.
      if (decision === 'reorder') decision = 'deliver';
      if (decision === 'deliver' || decision === 'duplicate') {
        // The held message goes right behind this one: that is the reorder, recorded now that it happened.
        this.held.delete(client);
        this.clock.clearTimeout(heldBefore.timer);
        this.releaseAfterCurrent(client, heldBefore.packet);
        this.record('reorder', client, heldBefore.packet);
      }
    }
    if (decision === 'deliver') return packet;
    if (decision !== 'reorder') this.record(decision, client, packet);
    switch (decision) {
      case 'drop':
        return null;
      case 'duplicate':
        this.releaseAfterCurrent(client, packet);
        return packet;
      case 'reorder': {
        // Held until the next delivery to this subscriber; when none comes in time it was only delayed.
        const timer = this.clock.setTimeout(() => {
          if (this.held.get(client)?.packet !== packet) return;
          this.held.delete(client);
          this.record('delay', client, packet);
          this.redeliver(client, packet);
        }, this.reorderHoldMsMax);
        this.held.set(client, { client, packet, timer });
        return null;
      }
      case 'delay': {
        const entry: Held = {
          client,
          packet,
          timer: this.clock.setTimeout(() => {
            this.delayed.delete(entry);
            this.redeliver(client, packet);
          }, this.faults.delayMs),
        };
        this.delayed.add(entry);
        return null;
      }
    }
  }

  private record(fault: DeliveryFault, client: Client, packet: AedesPublishPacket): void {
    this.counts[fault]++;
    this.history.append({ type: 'nemesis', fault, target: client.id, detail: packet.topic });
  }

  /**
   * aedes writes the current delivery in a `setImmediate` scheduled after this hook returns; a nested
   * `setImmediate` runs in the next turn of the loop, so the re-delivery is written after it. Live-only aedes glue,
   * not time: it orders two writes inside one aedes turn, so it stays on Node's setImmediate (the sim world's
   * router has no aedes and orders its deliveries itself).
   */
  private releaseAfterCurrent(client: Client, packet: AedesPublishPacket): void {
    setImmediate(() => setImmediate(() => this.redeliver(client, packet)));
  }

  private redeliver(client: Client, packet: AedesPublishPacket): void {
    if (client.closed || !client.connected) {
      this.counts.lostHeld++;
      return;
    }
    const copy: AedesPublishPacket = {
      cmd: 'publish',
      topic: packet.topic,
      payload: packet.payload,
      qos: packet.qos,
      retain: false,
      dup: false,
      brokerId: REDELIVERY_BROKER_ID,
      brokerCounter: ++this.redeliveryCounter,
    };
    client.publish(copy, () => {});
  }

  private onConnect(client: Client): void {
    if (!this.active || typeof client.id !== 'string') return;
    if (client.id.startsWith(this.opts.pipelineClientIdPrefix) || normaliseDeviceId(client.id) !== client.id) return;
    if (this.faults.disconnectRate <= 0) return;
    const afterPublishes = decideDisconnect(
      this.rng.next(),
      this.faults.disconnectRate,
      this.disconnectAfterPublishesMax,
    );
    if (afterPublishes !== null) this.cutAfter.set(client, afterPublishes);
  }

  private onPublish(client: Client): void {
    const left = this.cutAfter.get(client);
    if (left === undefined) return;
    if (left > 1) {
      this.cutAfter.set(client, left - 1);
      return;
    }
    this.cutAfter.delete(client);
    // The session may have ended on its own (the device went to sleep): nothing to cut then.
    if (!this.active || client.closed) return;
    this.counts.disconnect++;
    this.history.append({ type: 'nemesis', fault: 'disconnect', target: client.id, detail: 'after a publish' });
    client.close();
  }
}

/** Installs the network nemesis on one aedes instance (see `installNetworkNemesisOnBroker` for restarts). */
export function installNetworkNemesis(
  aedes: Aedes,
  faults: NetworkFaults,
  rng: Rng,
  history: History,
  opts: NetworkNemesisOptions,
): NetworkNemesis {
  const core = new NetworkNemesisCore(faults, rng, history, opts);
  core.attach(aedes);
  return core;
}

/**
 * Installs the network nemesis on the embedded broker's current aedes instance and again on each new one after a
 * broker restart, with one seeded stream and one set of counters for the whole run.
 */
export function installNetworkNemesisOnBroker(
  broker: Pick<EmbeddedBroker, 'aedes' | 'onAedes'>,
  faults: NetworkFaults,
  rng: Rng,
  history: History,
  opts: NetworkNemesisOptions,
): NetworkNemesis {
  const core = new NetworkNemesisCore(faults, rng, history, opts);
  core.attach(broker.aedes);
  const unsubscribe = broker.onAedes((aedes) => core.attach(aedes));
  return {
    stats: () => core.stats(),
    uninstall: () => {
      unsubscribe();
      core.uninstall();
    },
  };
}
