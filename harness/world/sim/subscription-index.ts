// Which sessions a published topic goes to. Most filters in camfleet are exact topics (a device subscribes to its
// own few); the pipeline has a handful of wildcard filters. Exact filters are looked up by name, so a publish costs
// the wildcard subscribers plus one map lookup, not one match per session of a 500-device fleet.
import { hasWildcard, topicMatches } from './topic-match.ts';

export type QoS = 0 | 1;

export interface Subscriber {
  /** Creation order: the order a publish reaches matching sessions in (stable, so runs are repeatable). */
  readonly seq: number;
  readonly subscriptions: Map<string, QoS>;
}

export class SubscriptionIndex<S extends Subscriber> {
  private readonly exact = new Map<string, Set<S>>();
  /** Sessions with at least one wildcard filter, and how many they have. */
  private readonly wildcard = new Map<S, number>();

  /** Adds or replaces one filter (§3.8.4: a SUBSCRIBE for an existing filter replaces it, QoS included). */
  add(session: S, filter: string, qos: QoS): void {
    const existed = session.subscriptions.has(filter);
    session.subscriptions.set(filter, qos);
    if (existed) return;
    if (hasWildcard(filter)) {
      this.wildcard.set(session, (this.wildcard.get(session) ?? 0) + 1);
    } else {
      let set = this.exact.get(filter);
      if (!set) this.exact.set(filter, (set = new Set()));
      set.add(session);
    }
  }

  remove(session: S, filter: string): void {
    if (!session.subscriptions.delete(filter)) return;
    if (hasWildcard(filter)) {
      const left = (this.wildcard.get(session) ?? 1) - 1;
      if (left > 0) this.wildcard.set(session, left);
      else this.wildcard.delete(session);
    } else {
      const set = this.exact.get(filter);
      set?.delete(session);
      if (set?.size === 0) this.exact.delete(filter);
    }
  }

  removeAll(session: S): void {
    for (const filter of [...session.subscriptions.keys()]) this.remove(session, filter);
  }

  /**
   * Every session with a filter matching `topic`, in creation order, each with the highest QoS among its matching
   * filters: overlapping subscriptions give one delivery at their maximum QoS (§3.3.5).
   */
  matching(topic: string): Array<{ session: S; qos: QoS }> {
    const candidates = new Set<S>(this.exact.get(topic));
    for (const session of this.wildcard.keys()) candidates.add(session);
    const out: Array<{ session: S; qos: QoS }> = [];
    for (const session of candidates) {
      let best: QoS | undefined;
      for (const [filter, qos] of session.subscriptions) {
        if ((best === undefined || qos > best) && topicMatches(filter, topic)) best = qos;
      }
      if (best !== undefined) out.push({ session, qos: best });
    }
    return out.sort((a, b) => a.session.seq - b.session.seq);
  }
}
