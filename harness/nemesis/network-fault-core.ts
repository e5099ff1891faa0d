// The network nemesis' decisions (ARCHITECTURE.md §4), shared by both worlds: the live glue over aedes'
// `authorizeForward` (network-nemesis.ts) and the sim glue over the in-memory router's delivery filter
// (sim-network-nemesis.ts). One seeded draw per delivery to a targeted subscriber decides whether it goes through,
// is dropped, delivered twice, held back behind the next delivery to the same subscriber (reorder) or delayed; one
// draw per device session decides whether, and after which of its publishes, the broker cuts it. Every injection
// is one `nemesis` history event with the same fault names and fields in both worlds, so the checker's E1
// (checker/exercises.ts) reads them alike. What differs — how a message is held back and handed over again, how a
// session is cut — is the world's `NetworkFaultPort`.
import { normaliseDeviceId } from '../../simulator/protocol/mac.ts';
import type { Rng } from '../../simulator/random/prng.ts';
import type { History } from '../history/history.ts';
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
  /** Stops injecting, releases held messages at once, removes the hooks from the broker. */
  uninstall(): void;
}

/** What the world does for the core. `S`: one subscriber connection (a new connection is a new `S`); `M`: one
 *  message on its way to it. */
export interface NetworkFaultPort<S, M> {
  /** The subscriber's client id, and the message's topic: the history event's `target` and `detail`. */
  clientId(subscriber: S): string;
  topic(message: M): string;
  /** Hands a held message to its subscriber again: right behind the delivery being decided now
   *  (`behind_current`: a reorder, a duplicate's second copy on aedes), or now (a delay's end). Not faulted again.
   *  Calls `lost()` if the subscriber is gone by then. */
  handAgain(subscriber: S, message: M, when: 'behind_current' | 'now', lost: () => void): void;
  /** Whether the session is still open (a device may have ended it itself before its cut came). */
  isOpen(subscriber: S): boolean;
  /** The broker cuts the session. */
  cut(subscriber: S): void;
}

/** What the world does with the delivery being decided: hand it over, lose it, hand it over and again right
 *  behind (the router does that itself; the aedes glue through `handAgain`), or hold it (the core hands it again). */
export type DeliveryOutcome = 'deliver' | 'drop' | 'duplicate' | 'hold';

interface Held<S, M> {
  readonly subscriber: S;
  readonly message: M;
  readonly timer: TimerHandle;
}

/** The network nemesis between installation and `uninstall()`, over one world's port. */
export class NetworkFaultCore<S, M> {
  private active = true;
  private readonly counts = { considered: 0, drop: 0, duplicate: 0, reorder: 0, delay: 0, disconnect: 0, lostHeld: 0 };
  /** At most one message held back per subscriber (reorder). */
  private readonly held = new Map<S, Held<S, M>>();
  private readonly delayed = new Set<Held<S, M>>();
  /** Device sessions to cut: publishes left before the cut. */
  private readonly cutAfter = new Map<S, number>();
  private readonly deviceDeliveries: boolean;
  private readonly disconnectAfterPublishesMax: number;
  private readonly reorderHoldMsMax: number;
  private readonly clock: Clock;
  /** A held, delayed or duplicated message whose subscriber was gone when it was handed over again. */
  readonly countLost = (): void => {
    this.counts.lostHeld++;
  };

  constructor(
    private readonly faults: NetworkFaults,
    private readonly rng: Rng,
    private readonly history: History,
    private readonly opts: NetworkNemesisOptions,
    private readonly port: NetworkFaultPort<S, M>,
  ) {
    this.deviceDeliveries = opts.deviceDeliveries ?? true;
    this.disconnectAfterPublishesMax = opts.disconnectAfterPublishesMax ?? 12;
    this.reorderHoldMsMax = opts.reorderHoldMsMax ?? 250;
    this.clock = opts.clock ?? realClock;
  }

  get installed(): boolean {
    return this.active;
  }

  stats(): NetworkNemesisStats {
    return { ...this.counts };
  }

  /** Whether deliveries to this client are faulted: the pipeline's, and (by default) devices'; no observer's. */
  isTarget(clientId: string): boolean {
    if (clientId.startsWith(this.opts.pipelineClientIdPrefix)) return true;
    return this.deviceDeliveries && normaliseDeviceId(clientId) === clientId;
  }

  /** One delivery of `message` to `subscriber` (a targeted one, not `$SYS`, not a re-delivery of ours). */
  onDelivery(subscriber: S, message: M): DeliveryOutcome {
    if (!this.active) return 'deliver';
    this.counts.considered++;
    let decision = decideDelivery(this.rng.next(), this.faults);
    const heldBefore = this.held.get(subscriber);
    if (heldBefore) {
      // A second reorder for the same subscriber meanwhile would reorder nothing: this delivery goes through.
      if (decision === 'reorder') decision = 'deliver';
      if (decision === 'deliver' || decision === 'duplicate') {
        // The held message goes right behind this one: that is the reorder, recorded now that it happened.
        this.held.delete(subscriber);
        this.clock.clearTimeout(heldBefore.timer);
        this.port.handAgain(subscriber, heldBefore.message, 'behind_current', this.countLost);
        this.record('reorder', subscriber, heldBefore.message);
      }
    }
    if (decision === 'deliver') return 'deliver';
    if (decision !== 'reorder') this.record(decision, subscriber, message);
    switch (decision) {
      case 'drop':
        return 'drop';
      case 'duplicate':
        return 'duplicate';
      case 'reorder': {
        // Held until the next delivery to this subscriber; when none comes in time it was only delayed.
        const timer = this.clock.setTimeout(() => {
          if (this.held.get(subscriber)?.message !== message) return;
          this.held.delete(subscriber);
          this.record('delay', subscriber, message);
          this.port.handAgain(subscriber, message, 'now', this.countLost);
        }, this.reorderHoldMsMax);
        this.held.set(subscriber, { subscriber, message, timer });
        return 'hold';
      }
      case 'delay': {
        const entry: Held<S, M> = {
          subscriber,
          message,
          timer: this.clock.setTimeout(() => {
            this.delayed.delete(entry);
            this.port.handAgain(subscriber, message, 'now', this.countLost);
          }, this.faults.delayMs),
        };
        this.delayed.add(entry);
        return 'hold';
      }
    }
  }

  /** A session opened: a device's may be drawn for a cut (the pipeline's never is). */
  onConnect(subscriber: S): void {
    if (!this.active || this.faults.disconnectRate <= 0) return;
    const id = this.port.clientId(subscriber);
    if (id.startsWith(this.opts.pipelineClientIdPrefix) || normaliseDeviceId(id) !== id) return;
    const afterPublishes = decideDisconnect(
      this.rng.next(),
      this.faults.disconnectRate,
      this.disconnectAfterPublishesMax,
    );
    if (afterPublishes !== null) this.cutAfter.set(subscriber, afterPublishes);
  }

  /** The session published (its message already routed): counts down to its cut. */
  onPublish(subscriber: S): void {
    const left = this.cutAfter.get(subscriber);
    if (left === undefined) return;
    if (left > 1) {
      this.cutAfter.set(subscriber, left - 1);
      return;
    }
    this.cutAfter.delete(subscriber);
    // The session may have ended on its own (the device went to sleep): nothing to cut then.
    if (!this.active || !this.port.isOpen(subscriber)) return;
    this.counts.disconnect++;
    this.history.append({
      type: 'nemesis',
      fault: 'disconnect',
      target: this.port.clientId(subscriber),
      detail: 'after a publish',
    });
    this.port.cut(subscriber);
  }

  /** Stops injecting and hands every held and delayed message over at once (a held one recorded as a delay). */
  uninstall(): void {
    if (!this.active) return;
    this.active = false;
    this.cutAfter.clear();
    for (const h of this.held.values()) {
      this.clock.clearTimeout(h.timer);
      this.record('delay', h.subscriber, h.message);
      this.port.handAgain(h.subscriber, h.message, 'now', this.countLost);
    }
    this.held.clear();
    for (const d of this.delayed) {
      this.clock.clearTimeout(d.timer);
      this.port.handAgain(d.subscriber, d.message, 'now', this.countLost);
    }
    this.delayed.clear();
  }

  private record(fault: DeliveryFault, subscriber: S, message: M): void {
    this.counts[fault]++;
    this.history.append({
      type: 'nemesis',
      fault,
      target: this.port.clientId(subscriber),
      detail: this.port.topic(message),
    });
  }
}
