// Drives one simulated device: feeds inputs to the pure firmware core and carries out its effects with a live
// transport, the world's clock (real timers live, the virtual clock in sim) and the device clock; records what the device did in the history. An optional effect
// filter (effect-filter.ts) sits around that interpreter: it is asked as each wake starts, on each step's effects and
// after each effect, and may take the few actions `FilteredDevice` offers. The driver knows nothing of what the
// filter is for (the nemesis' device faults, ARCHITECTURE.md §8).
import {
  ackedCapture,
  step,
  withImageCounter,
  withoutQueuedCapture,
  type FirmwareEffect,
  type FirmwareInput,
  type FirmwareState,
  type StepContext,
} from '../../simulator/firmware/index.ts';
import { decodeServerMessage, encodeDeviceMessage } from '../../simulator/protocol/index.ts';
import type { DeviceTransport } from '../../simulator/transport/mqtt-transport.ts';
import type { HistoryAppender } from '../history/history.ts';
import { settledWithin, type Clock, type TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import type { DeviceClock } from './device-clock.ts';
import { plainWake, type DeviceEffectFilter, type FilteredDevice, type WakeConditions } from './effect-filter.ts';
import type { FleetCounters } from './fleet-counters.ts';

export interface DriverDeps {
  readonly history: HistoryAppender;
  readonly clock: DeviceClock;
  readonly random: () => number;
  readonly counters: FleetCounters;
  readonly subscriptions: readonly string[];
  /** Asked the moment an ACK_OK reaches the device, before the firmware acts on it (I7): is one of the captures
   *  the device holds under that name stored complete? (After a counter reset two captures can share a name, and an
   *  ACK names only the name: a late ACK for the older one is not an ACK before durability.) */
  readonly observeAck: (mac: string, imageName: string, sha256s: readonly string[]) => Promise<boolean>;
  /** The device went to deep sleep; the fleet decides whether and when it wakes again. */
  readonly onSleep: (driver: DeviceDriver, untilMs: number) => void;
  readonly chunkIdBase: 0 | 1;
  /** Put around the effect interpreter (absent: none, the device behaves exactly as its firmware says). */
  readonly filter?: DeviceEffectFilter;
  /** The world's clock, on which the firmware's timers run (`clock` above is the device's own RTC, read off it).
   *  Default realClock. */
  readonly worldClock?: Clock;
}

export class DeviceDriver {
  private readonly timers = new Map<string, TimerHandle>();
  /** Inbound messages are handled one at a time, in arrival order, even when one waits for the ack observer. */
  private inbound: Promise<void> = Promise.resolve();
  /** Chunk ids already sent per captureSeq, to count re-sent chunks. */
  private readonly chunksSent = new Map<number, Set<number>>();
  /** Chunks published in the current step, recorded as one device_sent_chunks event when it ends. */
  private chunkBurst: { readonly imageName: string; readonly chunkIds: number[] } | undefined;
  wakes = 0;
  /** Wakes the filter left without network (the fleet does not count them against wakesMax). */
  outageWakes = 0;
  /** The current wake as the filter made it (`plainWake` without a filter). */
  private conditions: WakeConditions = plainWake;
  /** Set while performing effects when power is cut: the rest of the step's effects never happen. */
  private powerCut = false;
  /** The last session close in progress (a connect waits for it). */
  private disconnecting: Promise<unknown> = Promise.resolve();
  /** After shutdown the device is gone: late connect results or messages must not make it act (or capture). */
  private stopped = false;

  /** Undefined once dropped (heal phase) or when there is none. */
  private filter: DeviceEffectFilter | undefined;
  /** What the filter sees of this device and may ask of it. */
  private readonly filtered: FilteredDevice;
  private readonly worldClock: Clock;

  constructor(
    public state: FirmwareState,
    private readonly transport: DeviceTransport,
    private readonly deps: DriverDeps,
  ) {
    this.filter = deps.filter;
    this.worldClock = deps.worldClock ?? realClock;
    this.filtered = this.filteredDevice();
  }

  /** The filter goes for good (the heal phase): from the next wake on the device behaves as its firmware says. */
  dropFilter(): void {
    this.filter?.end?.(this.filtered);
    this.filter = undefined;
    this.conditions = plainWake;
  }

  get mac(): string {
    return this.state.config.deviceId;
  }

  get capturesSoFar(): number {
    return this.state.persistent.sim.captureSeqNext;
  }

  /** The last session's close has settled: what the device published before it went to sleep is out (a
   *  disconnect flushes its queued publishes first; at most DISCONNECT_WAIT_MS_MAX). */
  sessionClosed(): Promise<void> {
    return this.disconnecting.then(() => undefined);
  }

  get queueLength(): number {
    return this.state.persistent.sd.queue.length;
  }

  wake(): void {
    this.wakes += 1;
    // The filter acts before the wake is recorded: what it does to the wake (and records) comes first.
    this.conditions = this.filter?.beginWake(this.filtered) ?? plainWake;
    if (this.conditions.offline) this.outageWakes += 1;
    this.deps.history.append({ type: 'device_wake', mac: this.mac, wake: this.wakes });
    this.dispatch({ type: 'wake' });
  }

  /** The driver's side of the filter seam: read-only views plus the actions a filter may take. */
  private filteredDevice(): FilteredDevice {
    const { history, counters } = this.deps;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below read the driver's live state
    const driver = this;
    return {
      get mac() {
        return driver.mac;
      },
      get wakes() {
        return driver.wakes;
      },
      get state() {
        return driver.state;
      },
      get dialect() {
        return driver.state.config.dialect;
      },
      chunkIdBase: this.deps.chunkIdBase,
      clockNowMs: () => this.deps.clock.now(),
      recordAction: (name, detail) => {
        counters.faultsInjected += 1;
        history.append({ type: 'nemesis', fault: name, target: this.mac, detail });
      },
      record: (event) => history.append(event),
      writeImageCounter: (value) => {
        this.state = withImageCounter(this.state, value);
      },
      loseQueuedCapture: (image) => {
        this.state = withoutQueuedCapture(this.state, image.captureSeq);
        counters.capturesLost += 1;
        history.append({ type: 'device_lost_capture', mac: this.mac, imageName: image.name, sha256: image.sha256 });
      },
      cutPower: () => {
        this.powerCut = true;
      },
      publishRaw: (topic, payload) => this.transport.publish(topic, payload),
    };
  }

  /** Called by the transport for every message on the device's /cmd and /ack topics. */
  receive(topic: string, payload: Buffer): void {
    this.inbound = this.inbound.then(() => this.handleInbound(topic, payload)).catch(() => {});
  }

  lost(): void {
    this.dispatch({ type: 'disconnected' });
  }

  dispatch(input: FirmwareInput): void {
    if (this.stopped) return;
    const result = step(this.state, input, this.stepContext());
    this.state = result.state;
    const effects = this.filter ? this.filter.filterEffects(result.effects, this.filtered) : result.effects;
    try {
      for (const effect of effects) {
        this.perform(effect);
        this.filter?.afterEffect(effect, this.filtered);
        if (this.powerCut) break;
      }
    } finally {
      this.flushChunkBurst(); // the step's chunks are one event, whatever ended it
    }
    if (this.powerCut) {
      // Power lost mid-step: the remaining effects never happen; the device boots again (RAM lost, SD kept).
      this.powerCut = false;
      this.dispatch({ type: 'reboot' });
    }
  }

  /** One history event per burst of chunks (a step publishes an image's chunks back to back), not one per chunk. */
  private noteChunkSent(imageName: string, chunkId: number): void {
    if (this.chunkBurst !== undefined && this.chunkBurst.imageName !== imageName) this.flushChunkBurst();
    if (this.chunkBurst === undefined) this.chunkBurst = { imageName, chunkIds: [] };
    this.chunkBurst.chunkIds.push(chunkId);
  }

  private flushChunkBurst(): void {
    const burst = this.chunkBurst;
    if (burst === undefined) return;
    this.chunkBurst = undefined;
    this.deps.history.append({ type: 'device_sent_chunks', mac: this.mac, ...burst });
  }

  private stepContext(): StepContext {
    const nowMs = this.deps.clock.now();
    const { clockOffsetMs, timestampStyle } = this.conditions;
    if (clockOffsetMs === 0 && timestampStyle === undefined) return { nowMs, random: this.deps.random };
    const context = { nowMs: nowMs + clockOffsetMs, random: this.deps.random };
    return timestampStyle === undefined ? context : { ...context, timestampStyle };
  }

  /** Ends timers and the session (end of run). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) this.worldClock.clearTimeout(t);
    this.timers.clear();
    // At once: a sim world's clock may have stopped by now, and a session owing a PUBACK never ends by itself.
    await this.transport.disconnect({ flush: false });
  }

  private async handleInbound(topic: string, payload: Buffer): Promise<void> {
    const decoded = decodeServerMessage(topic, payload, { chunkIdBase: this.deps.chunkIdBase });
    if (!decoded.ok) return; // real firmware ignores what it cannot parse
    const message = decoded.value.message;
    if (message.kind === 'ack_ok' && message.image_name !== undefined) {
      // The capture the firmware takes this ACK for (by name; by name and timestamp under "ACK names the capture").
      const image = ackedCapture(this.state, message);
      if (image) {
        // The observer reads the database; if that read fails the observation is missing (I7 then rests on the
        // pipeline's own events), but the device still gets its ACK — the harness must not change its behaviour.
        const sameName = this.state.persistent.sd.queue
          .filter(
            (q) =>
              q.name === image.name &&
              (!this.namesCapture(message) ||
                (q.captureTimestamp === image.captureTimestamp && q.sizeBytes === image.sizeBytes)),
          )
          .map((q) => q.sha256);
        const storedComplete = await this.deps.observeAck(this.mac, message.image_name, sameName).catch(() => null);
        if (storedComplete !== null) {
          this.deps.history.append({
            type: 'ack_observed',
            mac: this.mac,
            imageName: message.image_name,
            sha256: image.sha256,
            storedComplete,
          });
        }
      }
    }
    this.dispatch({ type: 'message', message });
  }

  /** The queued image a publish of `name` belongs to: the in-flight one, else the oldest queued with that name. */
  private queuedImage(name: string) {
    const queue = this.state.persistent.sd.queue;
    const inFlight = this.state.ram.inFlight;
    return queue.find((q) => q.name === name && q.captureSeq === inFlight) ?? queue.find((q) => q.name === name);
  }

  /** The ACK names one capture (its timestamp), and this device's firmware takes it so. */
  private namesCapture(message: { readonly timestamp?: string }): boolean {
    return this.state.config.ackNamesCapture && typeof message.timestamp === 'string';
  }

  private perform(effect: FirmwareEffect): void {
    const { history, counters } = this.deps;
    switch (effect.type) {
      case 'connect':
        if (this.conditions.offline) {
          // No network: the join fails without the link being touched (the firmware captures offline).
          void Promise.resolve().then(() => this.dispatch({ type: 'connect_failed' }));
          return;
        }
        // After the previous session has closed (its queued publishes flushed): a reboot's disconnect + connect
        // must not let the new session (same client id) take over before the chunks sent before the cut are out.
        this.disconnecting
          .then(() => this.transport.connect(this.deps.subscriptions))
          .then(
            () => this.dispatch({ type: 'connected' }),
            () => this.dispatch({ type: 'connect_failed' }),
          );
        return;
      case 'disconnect':
        this.disconnecting = settledWithin(this.worldClock, this.transport.disconnect(), DISCONNECT_WAIT_MS_MAX);
        return;
      case 'publish': {
        const message = effect.message;
        const wire = encodeDeviceMessage(message, this.state.config.dialect, { chunkIdBase: this.deps.chunkIdBase });
        this.transport.publish(wire.topic, wire.payload);
        if (message.kind === 'chunk') {
          counters.chunksSent += 1;
          this.noteChunkSent(message.image_name, message.chunk_id);
          const image = this.queuedImage(message.image_name);
          if (image) {
            let sent = this.chunksSent.get(image.captureSeq);
            if (!sent) this.chunksSent.set(image.captureSeq, (sent = new Set()));
            if (sent.has(message.chunk_id)) counters.chunksResent += 1;
            else sent.add(message.chunk_id);
          }
        } else if (message.kind === 'metadata') {
          this.flushChunkBurst();
          const image = this.queuedImage(message.image_name);
          history.append({
            type: 'device_sent_metadata',
            mac: this.mac,
            imageName: message.image_name,
            sha256: image?.sha256 ?? '',
          });
        }
        return;
      }
      case 'set_timer': {
        const timer = this.worldClock.setTimeout(() => {
          this.timers.delete(effect.timerId);
          this.dispatch({ type: 'timer', timerId: effect.timerId });
        }, effect.afterMs);
        this.timers.set(effect.timerId, timer);
        return;
      }
      case 'cancel_timer': {
        const timer = this.timers.get(effect.timerId);
        this.worldClock.clearTimeout(timer);
        this.timers.delete(effect.timerId);
        return;
      }
      case 'sleep': {
        // A wake time read off a clock set off is a duration from the device's "now": carried over to the true clock.
        const untilMs = effect.untilMs - this.conditions.clockOffsetMs;
        history.append({ type: 'device_sleep', mac: this.mac, untilMs });
        this.deps.onSleep(this, untilMs);
        return;
      }
      case 'captured':
        counters.captured += 1;
        counters.chunksCaptured += Math.ceil(effect.image.sizeBytes / this.state.config.chunkBytes);
        history.append({
          type: 'device_captured',
          capture: {
            mac: this.mac,
            imageName: effect.image.name,
            sha256: effect.image.sha256,
            sizeBytes: effect.image.sizeBytes,
            captureTimestamp: effect.image.captureTimestamp,
            captureSeq: effect.image.captureSeq,
          },
        });
        return;
      case 'dequeued':
        counters.acked += 1;
        this.chunksSent.delete(effect.captureSeq);
        history.append({ type: 'device_dequeued', mac: this.mac, imageName: effect.image_name, sha256: effect.sha256 });
        return;
      case 'gave_up':
        counters.gaveUp += 1;
        history.append({ type: 'device_gave_up', mac: this.mac, reason: effect.reason });
        return;
    }
  }
}

/** A connect waits at most this long for the previous session to close (a dead broker must not stall a device). */
const DISCONNECT_WAIT_MS_MAX = 2_000;
