// Drives one simulated device: feeds inputs to the pure firmware core and carries out its effects with a live
// transport, real timers and the device clock; records what the device did in the history. It is also the seam
// where the device faults of ARCHITECTURE.md §4 are injected (the decisions come from harness/nemesis/
// device-nemesis.ts): each one is recorded as a `nemesis` event the moment it strikes, and the firmware heals it.
import {
  step,
  withImageCounter,
  withoutQueuedCapture,
  type FirmwareEffect,
  type FirmwareInput,
  type FirmwareState,
  type StepContext,
} from '../../simulator/firmware/index.ts';
import { decodeServerMessage, encodeDeviceMessage, type DeviceMessage } from '../../simulator/protocol/index.ts';
import type { DeviceTransport } from '../../simulator/transport/mqtt-transport.ts';
import type { History } from '../history/history.ts';
import { settledWithin, type Clock, type TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import {
  BAD_CLOCK_WAKE_MS,
  rebootAfterChunks,
  transferOrder,
  type DeviceFaultName,
  type DeviceNemesis,
  type WakeFaults,
} from '../nemesis/device-nemesis.ts';
import { corruptMessage, type CorruptKind } from '../nemesis/corrupt-message.ts';
import type { DeviceClock } from './device-clock.ts';
import type { FleetCounters } from './fleet-counters.ts';

export interface DriverDeps {
  readonly history: History;
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
  /** Device faults to inject (absent: none, the device behaves exactly as its firmware says). */
  readonly nemesis?: DeviceNemesis;
  /** The world's clock, on which the firmware's timers run (`clock` above is the device's own RTC, read off it).
   *  Default realClock. */
  readonly worldClock?: Clock;
}

/** The reboot planned for this wake: strikes after `afterChunks` chunk publishes of the current transfer. */
interface RebootArm {
  readonly fraction: number;
  imageName: string | null;
  afterChunks: number;
  totalChunks: number;
  chunksSent: number;
}

export class DeviceDriver {
  private readonly timers = new Map<string, TimerHandle>();
  /** Inbound messages are handled one at a time, in arrival order, even when one waits for the ack observer. */
  private inbound: Promise<void> = Promise.resolve();
  /** Chunk ids already sent per captureSeq, to count re-sent chunks. */
  private readonly chunksSent = new Map<number, Set<number>>();
  wakes = 0;
  /** Wakes lost to a Wi-Fi outage fault (the fleet does not count them against wakesMax). */
  outageWakes = 0;
  /** The faults of the current wake (null: none planned, e.g. no nemesis). */
  private wakeFaults: WakeFaults | null = null;
  /** Bad clock: device clock minus true clock for this wake (0 when the clock is right). */
  private clockSkewMs = 0;
  private reboot: RebootArm | null = null;
  /** At most one torn write per wake, so a device cannot lose every capture of a wake in a reboot loop. */
  private tornThisWake = false;
  /** Set while performing effects when power is cut: the rest of the step's effects never happen. */
  private powerCut = false;
  /** The last session close in progress (a connect waits for it). */
  private disconnecting: Promise<unknown> = Promise.resolve();
  /** Image transfers started so far (the nemesis' per-send opportunity index). */
  private sendsStarted = 0;
  /** Corrupt-message fault: the malformed message to publish after the next metadata of that image name. */
  private readonly corruptPending = new Map<string, CorruptKind>();
  /** After shutdown the device is gone: late connect results or messages must not make it act (or capture). */
  private stopped = false;

  /** The device-fault decisions; undefined once faults stop (heal phase) or when there is no nemesis. */
  private nemesis: DeviceNemesis | undefined;
  private readonly worldClock: Clock;

  constructor(
    public state: FirmwareState,
    private readonly transport: DeviceTransport,
    private readonly deps: DriverDeps,
  ) {
    this.nemesis = deps.nemesis;
    this.worldClock = deps.worldClock ?? realClock;
  }

  /** Faults stop for good (the heal phase): from the next wake on the device behaves as its firmware says. */
  stopFaults(): void {
    this.nemesis = undefined;
    this.wakeFaults = null;
    this.reboot = null;
    this.clockSkewMs = 0;
    this.corruptPending.clear();
  }

  get mac(): string {
    return this.state.config.deviceId;
  }

  get capturesSoFar(): number {
    return this.state.persistent.sim.captureSeqNext;
  }

  get queueLength(): number {
    return this.state.persistent.sd.queue.length;
  }

  wake(): void {
    this.wakes += 1;
    this.planFaults();
    this.deps.history.append({ type: 'device_wake', mac: this.mac, wake: this.wakes });
    this.dispatch({ type: 'wake' });
  }

  /** Per-wake faults, injected before the wake starts (counter reset, bad clock, Wi-Fi outage, reboot armed). */
  private planFaults(): void {
    const nemesis = this.nemesis;
    if (!nemesis) return;
    if (this.wakes === 1 && nemesis.dialectDrift) {
      this.recordFault('dialect_drift', `speaks the ${this.state.config.dialect} dialect`);
    }
    const plan = nemesis.planWake(this.wakes);
    this.wakeFaults = plan;
    this.tornThisWake = false;
    this.reboot = null;
    this.clockSkewMs = 0;
    const counter = this.state.persistent.flash.imageCounter;
    if (plan.counterReset && counter > 0) {
      // Healing: none needed on the device; the pipeline must tell the new picture from the old (name reuse).
      this.state = withImageCounter(this.state, 0);
      this.recordFault('counter_reset', `wake ${plan.wake}: flash counter ${counter} -> 0`);
    }
    if (plan.badClock) {
      this.clockSkewMs = BAD_CLOCK_WAKE_MS - this.deps.clock.now();
      this.recordFault('bad_clock', `wake ${plan.wake}: clock reads 1970, unpadded timestamps`);
    }
    if (plan.wifiOutageStarts > 0) {
      this.recordFault('wifi_outage', `wakes ${plan.wake}..${plan.wake + plan.wifiOutageStarts - 1} without Wi-Fi`);
    }
    if (plan.wifiOutage) this.outageWakes += 1;
    if (plan.rebootAtFraction !== null) {
      this.reboot = {
        fraction: plan.rebootAtFraction,
        imageName: null,
        afterChunks: 0,
        totalChunks: 0,
        chunksSent: 0,
      };
    }
  }

  private recordFault(fault: DeviceFaultName, detail: string): void {
    this.deps.counters.faultsInjected += 1;
    this.deps.history.append({ type: 'nemesis', fault, target: this.mac, detail });
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
    const effects = this.nemesis?.sendFaultsOn ? this.withSendFaults(result.effects) : result.effects;
    for (const effect of effects) {
      this.perform(effect);
      if (this.powerCut) {
        // Power lost mid-step: the remaining effects never happen; the device boots again (RAM lost, SD kept).
        this.powerCut = false;
        this.dispatch({ type: 'reboot' });
        return;
      }
    }
  }

  private stepContext(): StepContext {
    const nowMs = this.deps.clock.now();
    if (this.clockSkewMs === 0) return { nowMs, random: this.deps.random };
    return { nowMs: nowMs + this.clockSkewMs, random: this.deps.random, timestampStyle: 'unpadded' };
  }

  /**
   * Double send, interleaved send and duplicate metadata: each transfer the firmware emits in this step
   * (a metadata publish and the chunk publishes of that image right after it) goes out in the order the nemesis
   * says (`transferOrder`). Chunk re-sends without metadata (missing_chunks answers) are not transfers.
   */
  private withSendFaults(effects: readonly FirmwareEffect[]): FirmwareEffect[] {
    const nemesis = this.nemesis;
    if (!nemesis) return [...effects];
    const out: FirmwareEffect[] = [];
    let i = 0;
    while (i < effects.length) {
      const effect = effects[i] as FirmwareEffect;
      if (effect.type !== 'publish' || effect.message.kind !== 'metadata') {
        out.push(effect);
        i += 1;
        continue;
      }
      const name = effect.message.image_name;
      const block: FirmwareEffect[] = [effect];
      i += 1;
      for (; i < effects.length; i++) {
        const next = effects[i] as FirmwareEffect;
        if (next.type !== 'publish' || next.message.kind !== 'chunk' || next.message.image_name !== name) break;
        block.push(next);
      }
      const faults = nemesis.sendFaults(this.sendsStarted++);
      const chunks = block.length - 1;
      if (faults.mode === 'double')
        this.recordFault('double_send', `${name}: sent twice back to back (${chunks} chunks)`);
      if (faults.mode === 'interleaved') {
        this.recordFault('interleaved_send', `${name}: two transfers, chunks interleaved (${chunks} chunks)`);
      }
      if (faults.duplicateMetadata) this.recordFault('duplicate_metadata', `${name}: metadata published twice`);
      if (faults.corrupt !== undefined) {
        this.recordFault('corrupt_message', `${name}: one ${faults.corrupt} message besides the transfer`);
        this.corruptPending.set(name, faults.corrupt);
      }
      for (const index of transferOrder(chunks, faults)) out.push(block[index] as FirmwareEffect);
    }
    return out;
  }

  /** Ends timers and the session (end of run). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) this.worldClock.clearTimeout(t);
    this.timers.clear();
    await this.transport.disconnect();
  }

  private async handleInbound(topic: string, payload: Buffer): Promise<void> {
    const decoded = decodeServerMessage(topic, payload, { chunkIdBase: this.deps.chunkIdBase });
    if (!decoded.ok) return; // real firmware ignores what it cannot parse
    const message = decoded.value.message;
    if (message.kind === 'ack_ok' && message.image_name !== undefined) {
      const image = this.queuedImage(message.image_name);
      if (image) {
        // The observer reads the database; if that read fails the observation is missing (I7 then rests on the
        // pipeline's own events), but the device still gets its ACK — the harness must not change its behaviour.
        const sameName = this.state.persistent.sd.queue
          .filter((q) => q.name === message.image_name)
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

  /**
   * Corrupt-message fault: the malformed message planned for this transfer, right after its first metadata, on the
   * device's own data topic. The real transfer goes on untouched; the pipeline must record this one (I9).
   */
  private publishCorrupt(metadata: Extract<DeviceMessage, { kind: 'metadata' }>): void {
    const kind = this.corruptPending.get(metadata.image_name);
    if (kind === undefined) return;
    this.corruptPending.delete(metadata.image_name);
    const wire = corruptMessage(kind, metadata, this.state.config.dialect, { chunkIdBase: this.deps.chunkIdBase });
    this.transport.publish(wire.topic, wire.payload);
    this.deps.history.append({
      type: 'device_sent_malformed',
      mac: this.mac,
      topic: wire.topic,
      kind: wire.kind,
      expectedCode: wire.expectedCode,
    });
  }

  /** Reboot fault: count the chunk publishes of the current transfer and cut the power after the planned one. */
  private armedReboot(message: DeviceMessage): void {
    const arm = this.reboot;
    if (arm === null) return;
    if (message.kind === 'metadata') {
      // Each transfer start re-arms on that transfer: the reboot strikes the transfer in progress.
      arm.imageName = message.image_name;
      arm.totalChunks = message.total_chunk_count;
      arm.afterChunks = rebootAfterChunks(arm.fraction, message.total_chunk_count);
      arm.chunksSent = 0;
      return;
    }
    if (message.kind !== 'chunk' || message.image_name !== arm.imageName) return;
    arm.chunksSent += 1;
    if (arm.chunksSent < arm.afterChunks) return;
    this.reboot = null; // once per wake
    this.recordFault(
      'reboot',
      `wake ${this.wakes}: ${arm.imageName} after ${arm.chunksSent} of ${arm.totalChunks} chunks (RAM lost, SD kept)`,
    );
    this.powerCut = true;
  }

  /** Torn SD write: the capture's queue entry is lost and the device reboots (recorded as a lost capture). */
  private maybeTearWrite(captureSeq: number, imageName: string, sha256: string): void {
    const nemesis = this.nemesis;
    if (!nemesis || this.tornThisWake || !nemesis.tornWrite(captureSeq)) return;
    this.tornThisWake = true;
    this.state = withoutQueuedCapture(this.state, captureSeq);
    this.recordFault('torn_write', `${imageName} (capture ${captureSeq}): SD-queue entry lost, power cut`);
    this.deps.counters.capturesLost += 1;
    this.deps.history.append({ type: 'device_lost_capture', mac: this.mac, imageName, sha256 });
    this.powerCut = true;
  }

  /** The image an ACK for `name` refers to: the in-flight one, else the oldest queued with that name. */
  private queuedImage(name: string) {
    const queue = this.state.persistent.sd.queue;
    const inFlight = this.state.ram.inFlight;
    return queue.find((q) => q.name === name && q.captureSeq === inFlight) ?? queue.find((q) => q.name === name);
  }

  private perform(effect: FirmwareEffect): void {
    const { history, counters } = this.deps;
    switch (effect.type) {
      case 'connect':
        if (this.wakeFaults?.wifiOutage) {
          // Wi-Fi down: the join fails without the network being touched (the firmware captures offline).
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
        this.armedReboot(message);
        if (message.kind === 'chunk') {
          counters.chunksSent += 1;
          const image = this.queuedImage(message.image_name);
          if (image) {
            let sent = this.chunksSent.get(image.captureSeq);
            if (!sent) this.chunksSent.set(image.captureSeq, (sent = new Set()));
            if (sent.has(message.chunk_id)) counters.chunksResent += 1;
            else sent.add(message.chunk_id);
          }
        } else if (message.kind === 'metadata') {
          const image = this.queuedImage(message.image_name);
          history.append({
            type: 'device_sent_metadata',
            mac: this.mac,
            imageName: message.image_name,
            sha256: image?.sha256 ?? '',
          });
          this.publishCorrupt(message);
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
        // A wake time read off a bad clock is a duration from the device's "now": carried over to the true clock.
        const untilMs = effect.untilMs - this.clockSkewMs;
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
        this.maybeTearWrite(effect.image.captureSeq, effect.image.name, effect.image.sha256);
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
