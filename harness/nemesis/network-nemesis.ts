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
//
// The decisions (what one draw does, the reorder's hold, the session cut's countdown) are network-fault-core.ts,
// shared with the sim world's router glue (sim-network-nemesis.ts); this file is only aedes' side of them.
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import type { Rng } from '../../simulator/random/prng.ts';
import type { History } from '../history/history.ts';
import type { EmbeddedBroker } from '../world/broker.ts';
import type { NetworkFaults } from './fault-plan.ts';
import {
  NetworkFaultCore,
  type NetworkFaultPort,
  type NetworkNemesis,
  type NetworkNemesisOptions,
} from './network-fault-core.ts';

// The decisions and their vocabulary live in network-fault-core.ts (shared with the sim world's nemesis).
export {
  decideDelivery,
  decideDisconnect,
  type DeliveryDecision,
  type DeliveryFault,
  type DeliveryRates,
  type NetworkNemesis,
  type NetworkNemesisOptions,
  type NetworkNemesisStats,
} from './network-fault-core.ts';

/** Re-deliveries are tagged with this broker id so our own hook lets them through (aedes dedupes per broker id). */
const REDELIVERY_BROKER_ID = 'camfleet-nemesis';

/** The aedes side of the core: hooks on the current aedes instance, re-deliveries through `client.publish`. */
class AedesNetworkNemesis implements NetworkNemesis {
  private detachHooks: (() => void) | undefined;
  private redeliveryCounter = 0;
  private readonly core: NetworkFaultCore<Client, AedesPublishPacket>;

  constructor(faults: NetworkFaults, rng: Rng, history: History, opts: NetworkNemesisOptions) {
    const port: NetworkFaultPort<Client, AedesPublishPacket> = {
      clientId: (client) => client.id,
      topic: (packet) => packet.topic,
      handAgain: (client, packet, when, lost) => {
        if (when === 'now') this.redeliver(client, packet, lost);
        else this.releaseAfterCurrent(client, packet, lost);
      },
      isOpen: (client) => !client.closed,
      cut: (client) => client.close(),
    };
    this.core = new NetworkFaultCore(faults, rng, history, opts, port);
  }

  stats() {
    return this.core.stats();
  }

  /** Installs the hooks on `aedes` (after a broker restart: on the new instance). */
  attach(aedes: Aedes): void {
    if (!this.core.installed) return;
    this.detach();
    const previous = aedes.authorizeForward;
    const hook = (client: Client, packet: AedesPublishPacket): AedesPublishPacket | null | void => {
      const passed = previous.call(aedes, client, packet);
      if (!passed) return passed;
      return this.onDelivery(client, passed);
    };
    aedes.authorizeForward = hook;
    const onClient = (client: Client) => {
      if (typeof client.id === 'string') this.core.onConnect(client);
    };
    aedes.on('client', onClient);
    const onPublish = (_packet: AedesPublishPacket, client: Client | null) => {
      if (client) this.core.onPublish(client);
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
  }

  uninstall(): void {
    if (!this.core.installed) return;
    this.detach();
    this.core.uninstall();
  }

  private onDelivery(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    if (!this.core.installed || packet.brokerId === REDELIVERY_BROKER_ID) return packet;
    if (packet.topic.startsWith('$') || typeof client.id !== 'string' || !this.core.isTarget(client.id)) return packet;
    switch (this.core.onDelivery(client, packet)) {
      case 'deliver':
        return packet;
      case 'duplicate':
        this.releaseAfterCurrent(client, packet, this.core.countLost);
        return packet;
      case 'drop':
      case 'hold':
        return null;
    }
  }

  /**
   * aedes writes the current delivery in a `setImmediate` scheduled after this hook returns; a nested
   * `setImmediate` runs in the next turn of the loop, so the re-delivery is written after it. Live-only aedes glue,
   * not time: it orders two writes inside one aedes turn, so it stays on Node's setImmediate (the sim world's
   * router has no aedes and orders its deliveries itself).
   */
  private releaseAfterCurrent(client: Client, packet: AedesPublishPacket, lost: () => void): void {
    setImmediate(() => setImmediate(() => this.redeliver(client, packet, lost)));
  }

  private redeliver(client: Client, packet: AedesPublishPacket, lost: () => void): void {
    if (client.closed || !client.connected) {
      lost();
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
}

/** Installs the network nemesis on one aedes instance (see `installNetworkNemesisOnBroker` for restarts). */
export function installNetworkNemesis(
  aedes: Aedes,
  faults: NetworkFaults,
  rng: Rng,
  history: History,
  opts: NetworkNemesisOptions,
): NetworkNemesis {
  const core = new AedesNetworkNemesis(faults, rng, history, opts);
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
  const core = new AedesNetworkNemesis(faults, rng, history, opts);
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
