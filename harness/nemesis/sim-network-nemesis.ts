// Network faults in the sim world (ARCHITECTURE.md §4, §8): the same decisions as over aedes
// (network-fault-core.ts: one seeded draw per delivery to a targeted subscriber, one per device session), acting on
// the in-memory router instead — its delivery filter ('drop', 'duplicate', 'hold' + release()) and its observers
// of connects and publishes. The router hands deliveries over only when the seeded scheduler says so and holds run
// on the virtual clock, so every fault lands at the same point of the same run for the same seed.
//
// What each fault is at the router: a drop loses the delivery for that subscriber; a duplicate hands it over and a
// copy right behind it; a reorder holds it until the next delivery to the same subscriber connection, then puts it
// first in its FIFO, so it arrives behind that one (or, when none comes within `reorderHoldMsMax`, it was only
// delayed); a delay holds it for `delayMs` of virtual time; a disconnect cuts a device's session right after its
// N-th publish (already routed). A held message whose subscriber has gone is lost, as over aedes (`lostHeld`).
import type { Rng } from '../../simulator/random/prng.ts';
import type { History } from '../history/history.ts';
import type { Delivery, Router, RouterConnection } from '../world/sim/router.ts';
import type { NetworkFaults } from './fault-plan.ts';
import {
  NetworkFaultCore,
  type NetworkFaultPort,
  type NetworkNemesis,
  type NetworkNemesisOptions,
} from './network-fault-core.ts';

/** One subscriber connection, the same object from its connect on (the core keeps holds and cuts per object). */
interface SimSubscriber {
  readonly connectionId: number;
  readonly clientId: string;
  /** Set when the router reported the connect (every connection made after installation). */
  connection: RouterConnection | undefined;
}

/** Installs the network nemesis on `router` (its delivery filter and an observer); uninstall() removes both. */
export function installSimNetworkNemesis(
  router: Router,
  faults: NetworkFaults,
  rng: Rng,
  history: History,
  opts: NetworkNemesisOptions,
): NetworkNemesis {
  const subscribers = new Map<number, SimSubscriber>();
  const subscriberOf = (connectionId: number, clientId: string): SimSubscriber => {
    let s = subscribers.get(connectionId);
    if (s === undefined) subscribers.set(connectionId, (s = { connectionId, clientId, connection: undefined }));
    return s;
  };
  const port: NetworkFaultPort<SimSubscriber, Delivery> = {
    clientId: (s) => s.clientId,
    topic: (d) => d.topic,
    // Both are a release: it puts the message first in its FIFO, and a release from inside the filter comes
    // before the delivery being decided is handed over, so the held one goes right behind it.
    handAgain: (_s, d, _when, lost) => {
      if (!router.release(d.id)) lost();
    },
    isOpen: (s) => s.connection?.open === true,
    // Called from the publish observer: this connection is the client id's connected one.
    cut: (s) => router.disconnectClient(s.clientId, 'connection closed by the broker (nemesis)'),
  };
  const core = new NetworkFaultCore(faults, rng, history, opts, port);
  router.setFilter((d) => {
    if (d.topic.startsWith('$') || !core.isTarget(d.subscriberId)) return 'deliver';
    return core.onDelivery(subscriberOf(d.connectionId, d.subscriberId), d);
  });
  const stopObserving = router.observe({
    connected: (c) => {
      const s = subscriberOf(c.id, c.clientId);
      s.connection = c;
      core.onConnect(s);
    },
    published: (c) => {
      const s = subscribers.get(c.id);
      if (s !== undefined) core.onPublish(s);
      // A closed connection publishes no more and a new one has a new id: forget this one once it is closed.
      if (!c.open) subscribers.delete(c.id);
    },
  });
  return {
    stats: () => core.stats(),
    uninstall: () => {
      // Held messages are released first, while the filter is still ours (a released one is not filtered again).
      core.uninstall();
      router.setFilter(undefined);
      stopObserving();
      subscribers.clear();
    },
  };
}
