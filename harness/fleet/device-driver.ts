// Drives one simulated device: feeds inputs to the pure firmware core and carries out its effects with a live
// transport, real timers and the device clock; records what the device did in the history.
import { step, type FirmwareEffect, type FirmwareInput, type FirmwareState } from '../../simulator/firmware/index.ts';
import { decodeServerMessage, encodeDeviceMessage } from '../../simulator/protocol/index.ts';
import type { DeviceTransport } from '../../simulator/transport/mqtt-transport.ts';
import type { History } from '../history/history.ts';
import type { DeviceClock } from './device-clock.ts';
import type { FleetCounters } from './fleet-counters.ts';

export interface DriverDeps {
  readonly history: History;
  readonly clock: DeviceClock;
  readonly random: () => number;
  readonly counters: FleetCounters;
  readonly subscriptions: readonly string[];
  /** Asked the moment an ACK_OK reaches the device, before the firmware acts on it (I7). */
  readonly observeAck: (mac: string, imageName: string, sha256: string) => Promise<boolean>;
  /** The device went to deep sleep; the fleet decides whether and when it wakes again. */
  readonly onSleep: (driver: DeviceDriver, untilMs: number) => void;
  readonly chunkIdBase: 0 | 1;
}

export class DeviceDriver {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Inbound messages are handled one at a time, in arrival order, even when one waits for the ack observer. */
  private inbound: Promise<void> = Promise.resolve();
  /** Chunk ids already sent per captureSeq, to count re-sent chunks. */
  private readonly chunksSent = new Map<number, Set<number>>();
  wakes = 0;
  /** After shutdown the device is gone: late connect results or messages must not make it act (or capture). */
  private stopped = false;

  constructor(
    public state: FirmwareState,
    private readonly transport: DeviceTransport,
    private readonly deps: DriverDeps,
  ) {}

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
    this.deps.history.append({ type: 'device_wake', mac: this.mac, wake: this.wakes });
    this.dispatch({ type: 'wake' });
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
    const result = step(this.state, input, { nowMs: this.deps.clock.now(), random: this.deps.random });
    this.state = result.state;
    for (const effect of result.effects) this.perform(effect);
  }

  /** Ends timers and the session (end of run). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
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
        const storedComplete = await this.deps.observeAck(this.mac, message.image_name, image.sha256);
        this.deps.history.append({
          type: 'ack_observed',
          mac: this.mac,
          imageName: message.image_name,
          sha256: image.sha256,
          storedComplete,
        });
      }
    }
    this.dispatch({ type: 'message', message });
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
        this.transport.connect(this.deps.subscriptions).then(
          () => this.dispatch({ type: 'connected' }),
          () => this.dispatch({ type: 'connect_failed' }),
        );
        return;
      case 'disconnect':
        void this.transport.disconnect();
        return;
      case 'publish': {
        const message = effect.message;
        const wire = encodeDeviceMessage(message, this.state.config.dialect, { chunkIdBase: this.deps.chunkIdBase });
        this.transport.publish(wire.topic, wire.payload);
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
        }
        return;
      }
      case 'set_timer': {
        const timer = setTimeout(() => {
          this.timers.delete(effect.timerId);
          this.dispatch({ type: 'timer', timerId: effect.timerId });
        }, effect.afterMs);
        this.timers.set(effect.timerId, timer);
        return;
      }
      case 'cancel_timer': {
        const timer = this.timers.get(effect.timerId);
        if (timer) clearTimeout(timer);
        this.timers.delete(effect.timerId);
        return;
      }
      case 'sleep':
        history.append({ type: 'device_sleep', mac: this.mac, untilMs: effect.untilMs });
        this.deps.onSleep(this, effect.untilMs);
        return;
      case 'captured':
        counters.captured += 1;
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
