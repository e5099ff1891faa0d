// Runs N simulated devices concurrently against a world's broker (World.deviceTransport): staggered first wakes, at most
// `concurrencyMax` devices awake at once, deep sleeps compressed by `timeScale`. A device is done when it has
// captured its images and its queue is empty, or when it has used `wakesMax` wakes — wakes its effect filter left
// without network are not counted, so a Wi-Fi outage never eats the wakes the device needs to drain its queue
// afterwards. The fleet knows no faults: a filter per device (effect-filter.ts) is where the nemesis acts.
import { initialState, makeFirmwareConfig, type FirmwareProfile } from '../../simulator/firmware/index.ts';
import { deviceSubscriptions, type Dialect } from '../../simulator/protocol/index.ts';
import type { Rng } from '../../simulator/random/prng.ts';
import type { HistoryAppender } from '../history/history.ts';
import type { Clock, TimerHandle } from '../world/clock.ts';
import type { DeviceTransportFactory } from '../world/world.ts';
import { realClock } from '../world/live/real-clock.ts';
import { DeviceClock } from './device-clock.ts';
import { DeviceDriver } from './device-driver.ts';
import type { DeviceEffectFilter } from './effect-filter.ts';
import { newFleetCounters, type FleetCounters } from './fleet-counters.ts';

export interface FleetOptions {
  /** Each device's broker session (client id = MAC): a world's `deviceTransport` (live: mqtt.js; sim: the router). */
  readonly transport: DeviceTransportFactory;
  readonly devices: number;
  /** Simulate only these of the `devices` (0-based, `to` exclusive): a shard's slice. Default all. */
  readonly slice?: { readonly from: number; readonly to: number };
  readonly imagesPerDevice: number;
  readonly imageKbMean: number;
  readonly chunkBytes: number;
  readonly wakesMax: number;
  readonly qos: 0 | 1;
  readonly dialect: Dialect;
  readonly chunkIdBase: 0 | 1;
  /** The firmware every device runs (simulator/firmware/profile.ts). Default fw350. The wire's chunk-id base is
   *  `chunkIdBase` all the same: a profile that speaks another one (fw-one-based-ids) is given it there. */
  readonly firmware?: FirmwareProfile;
  /** The devices take an ACK_OK's capture timestamp into account (FirmwareConfig.ackNamesCapture). Default false. */
  readonly ackNamesCapture?: boolean;
  readonly rng: Rng;
  readonly history: HistoryAppender;
  /** Virtual ms of deep sleep per real ms (default: 1 h of sleep takes 10 ms). */
  readonly timeScale: number;
  readonly realSleepMsMax: number;
  /** The first wakes are spread over this window. */
  readonly staggerMs: number;
  readonly concurrencyMax: number;
  readonly ackTimeoutMs: number;
  /** The device clock at the start (UTC ms). */
  readonly startClockMs: number;
  /** Is one of these captures (every queued capture carrying the ACK's name) stored complete? */
  readonly observeAck: (mac: string, imageName: string, sha256s: readonly string[]) => Promise<boolean>;
  /**
   * The effect filter put around each device's driver for the safety phase (the nemesis' device faults:
   * harness/nemesis/device-fault-filter.ts), asked once per device as it is built; `heal()` drops them. Default:
   * none, every device exactly as its firmware says. `index`: the device's place in the fleet, 1-based, in the order
   * the fleet builds them (how a user names "device 2").
   */
  readonly deviceFilter?: (mac: string, index: number) => DeviceEffectFilter;
  /** Heal phase: clean wakes at most per device still holding images (default 3). */
  readonly healWakesMax?: number;
  /** Aborts the run (time budget): pending wakes are cancelled and the promise resolves with `aborted`. */
  readonly signal?: AbortSignal;
  /** The world's clock: wakes, firmware timers and every device clock run on it. Default realClock. */
  readonly clock?: Clock;
  /**
   * Back-pressure from the pipeline: while this says so, no device wakes (those awake carry on), and the fleet asks
   * again every WAKE_HOLD_POLL_MS; given, it also paces wakes (WAKES_PER_POLL_PACED a poll). Default: never held. A live run's says its pipeline is behind; a sim run has
   * none (its scheduler already decides who runs).
   */
  readonly wakesHeld?: () => boolean;
}

/** How often a held fleet asks again whether it may wake its next device. */
export const WAKE_HOLD_POLL_MS = 20;
/** With back-pressure, at most this many devices wake every WAKE_HOLD_POLL_MS (500 a second). */
export const WAKES_PER_POLL_PACED = 10;

/** How a fleet's run or heal phase ended. */
export interface FleetOutcome {
  /** Stopped by its abort signal (time budget, Ctrl-C) before every device was done. */
  readonly aborted: boolean;
}

export interface FleetResult extends FleetOutcome {
  readonly drivers: readonly DeviceDriver[];
}

/**
 * What a run needs of its fleet: a `Fleet` on the run's own thread, or the same devices spread over fleet threads
 * (harness/run/fleet-threads.ts), each thread a `Fleet` of its own.
 */
export interface RunnableFleet {
  /** Live counters (summed over the threads, as they report). */
  readonly counters: FleetCounters;
  /** The MAC of the device at this 1-based place in the whole fleet, if this process simulates it. */
  macAt(index: number): string | undefined;
  run(): Promise<FleetOutcome>;
  heal(): Promise<FleetOutcome>;
  shutdown(): Promise<void>;
}

/** Espressif-style MACs (OUI B8:F8:62), distinct, from the run's seed. */
export function fleetMacs(rng: Rng, count: number): string[] {
  const seen = new Set<string>();
  const macs: string[] = [];
  while (macs.length < count) {
    const mac = `B8F862${rng.int(0, 0xffffff).toString(16).toUpperCase().padStart(6, '0')}`;
    if (seen.has(mac)) continue;
    seen.add(mac);
    macs.push(mac);
  }
  return macs;
}

export class Fleet implements RunnableFleet {
  readonly counters: FleetCounters = newFleetCounters();
  readonly drivers: DeviceDriver[] = [];
  private readonly waiting: DeviceDriver[] = [];
  private readonly pendingWakes = new Set<TimerHandle>();
  /** Armed while wakes are held (wakesHeld): asks again. */
  private holdTimer: TimerHandle | undefined;
  private holding = false;
  /** Wakes since `pacedSinceMs`, when the current pacing window opened (with its first wake). */
  private pacedWakes = 0;
  private pacedSinceMs = Number.NEGATIVE_INFINITY;
  private finish: (() => void) | undefined;
  private aborted = false;
  /** In the heal phase: the done rule is "queue empty or healWakesMax more wakes used". */
  private healing = false;
  private readonly healFromWake = new Map<DeviceDriver, number>();
  /** Devices that are done, and the wake time each last asked for (the heal phase wakes them then). */
  private readonly asleepUntil = new Map<DeviceDriver, { clock: DeviceClock; untilMs: number }>();
  private readonly healWakesMax: number;
  private readonly clock: Clock;
  /** 0-based place of the first device simulated here in the whole fleet. */
  private readonly sliceFrom: number;

  constructor(private readonly options: FleetOptions) {
    const worldClock = options.clock ?? realClock;
    this.clock = worldClock;
    // A shard draws the whole fleet's MACs and takes its slice: no collision with other shards, and each device the
    // same as in a run of the whole fleet (its Rng is forked by its MAC).
    const slice = options.slice ?? { from: 0, to: options.devices };
    this.sliceFrom = slice.from;
    const macs = fleetMacs(options.rng.fork('macs'), options.devices).slice(slice.from, slice.to);
    this.healWakesMax = options.healWakesMax ?? 3;
    for (const [i, mac] of macs.entries()) {
      const deviceRng = options.rng.fork(`device:${mac}`);
      const filter = options.deviceFilter?.(mac, slice.from + i + 1);
      // A filter may have the device speak another dialect than its fleet.
      const dialect = filter ? filter.dialect(options.dialect) : options.dialect;
      const config = makeFirmwareConfig({
        deviceId: mac,
        dialect,
        chunkBytes: options.chunkBytes,
        imageKbMean: options.imageKbMean,
        ackTimeoutMs: options.ackTimeoutMs,
        helloTimeoutMs: options.ackTimeoutMs,
        idleTimeoutMs: options.ackTimeoutMs,
        ...(options.firmware === undefined ? {} : { profile: options.firmware }),
        ...(options.ackNamesCapture === undefined ? {} : { ackNamesCapture: options.ackNamesCapture }),
      });
      const firmwareRng = deviceRng.fork('firmware');
      const clock = new DeviceClock(options.startClockMs, () => worldClock.nowMs());
      let driver: DeviceDriver | undefined = undefined;
      const transport = options.transport(
        { clientId: mac, qos: options.qos, connectTimeoutMs: 10_000 },
        { onMessage: (topic, payload) => driver?.receive(topic, payload), onLost: () => driver?.lost() },
      );
      driver = new DeviceDriver(initialState(config, deviceRng.int(0, 0x7fffffff)), transport, {
        history: options.history,
        clock,
        random: firmwareRng.next,
        counters: this.counters,
        subscriptions: deviceSubscriptions(mac, dialect),
        observeAck: options.observeAck,
        onSleep: (d, untilMs) => this.onSleep(d, clock, untilMs),
        chunkIdBase: options.chunkIdBase,
        ...(filter ? { filter } : {}),
        worldClock,
      });
      this.drivers.push(driver);
    }
  }

  macAt(index: number): string | undefined {
    return this.drivers[index - 1 - this.sliceFrom]?.mac;
  }

  run(): Promise<FleetResult> {
    const { staggerMs, signal } = this.options;
    return new Promise<FleetResult>((resolve) => {
      this.finish = this.finishing(resolve);
      const abort = () => {
        this.aborted = true;
        for (const t of this.pendingWakes) this.clock.clearTimeout(t);
        this.pendingWakes.clear();
        this.clock.clearTimeout(this.holdTimer);
        resolve({ aborted: this.aborted, drivers: this.drivers }); // at once: nothing more is waited for
      };
      // A signal aborted before the fleet starts (Ctrl-C while the servers start) never fires 'abort' again.
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort);
      if (this.drivers.length === 0) return this.finish();
      this.drivers.forEach((driver, i) => this.scheduleWake(driver, (staggerMs * i) / this.drivers.length));
    });
  }

  /**
   * The heal phase (ARCHITECTURE.md §6: safety, then heal, then liveness), after `run()`: every device's effect
   * filter is dropped for good (device faults stop), and every device still holding images gets clean wakes — at
   * the wake time it last asked for — until its queue is empty or it used `healWakesMax` more wakes. Resolves like
   * `run()` (with the same abort signal).
   */
  heal(): Promise<FleetResult> {
    for (const driver of this.drivers) driver.dropFilter();
    return new Promise<FleetResult>((resolve) => {
      this.finish = this.finishing(resolve);
      if (this.aborted) return resolve({ aborted: this.aborted, drivers: this.drivers });
      const holding = this.drivers.filter((d) => d.queueLength > 0 && this.asleepUntil.has(d));
      if (holding.length === 0) return this.finish();
      this.healing = true;
      for (const driver of holding) {
        this.healFromWake.set(driver, driver.wakes);
        this.counters.devicesDone -= 1;
        const sleep = this.asleepUntil.get(driver);
        const waitMs = sleep
          ? sleep.clock.compressSleep(sleep.untilMs, this.options.timeScale, this.options.realSleepMsMax)
          : 0;
        this.scheduleWake(driver, waitMs);
      }
    });
  }

  /**
   * The fleet is done once every device is done AND what each published before its last sleep has left it: a
   * device that double-sends an image and is acknowledged after the first metadata sleeps while the rest is still on
   * its radio (a disconnect flushes it). Without the wait the quiet phase could end, and the checker count the
   * second copy as delivered, before the pipeline ever saw it (found by explore: I6 on `fixed`).
   */
  private finishing(resolve: (result: FleetResult) => void): () => void {
    return () => {
      void Promise.all(this.drivers.map((d) => d.sessionClosed())).then(() =>
        resolve({ aborted: this.aborted, drivers: this.drivers }),
      );
    };
  }

  async shutdown(): Promise<void> {
    for (const t of this.pendingWakes) this.clock.clearTimeout(t);
    this.clock.clearTimeout(this.holdTimer);
    await Promise.all(this.drivers.map((d) => d.shutdown()));
  }

  private isDone(driver: DeviceDriver): boolean {
    if (this.healing) {
      const from = this.healFromWake.get(driver) ?? driver.wakes;
      return driver.queueLength === 0 || driver.wakes - from >= this.healWakesMax;
    }
    const finishedWork = driver.capturesSoFar >= this.options.imagesPerDevice && driver.queueLength === 0;
    return finishedWork || driver.wakes - driver.outageWakes >= this.options.wakesMax;
  }

  private scheduleWake(driver: DeviceDriver, afterMs: number): void {
    const timer = this.clock.setTimeout(() => {
      this.pendingWakes.delete(timer);
      this.admit(driver);
    }, afterMs);
    this.pendingWakes.add(timer);
  }

  /** Wakes the device now if a slot is free and the pipeline keeps up, else queues it (bounded concurrency). */
  private admit(driver: DeviceDriver): void {
    this.waiting.push(driver);
    this.admitWaiting();
  }

  /**
   * Wakes queued devices, first come first woken, while slots are free and wakes are not held. With back-pressure
   * (`wakesHeld`), wakes are also paced, at most WAKES_PER_POLL_PACED every WAKE_HOLD_POLL_MS: what tells the fleet
   * that the pipeline is behind lags the wakes by a connect and a capture, and thousands of devices woken at once
   * buried it before it could say so (measured: 10,000 awake at once on Mosquitto, 7,000 woken the moment the
   * pipeline caught up, every one waiting out its ACK timeout and sending its image again).
   */
  private admitWaiting(): void {
    const held = this.options.wakesHeld;
    while (this.waiting.length > 0 && this.counters.devicesAwake < this.options.concurrencyMax) {
      const now = this.clock.nowMs();
      // A window opens with the first wake WAKE_HOLD_POLL_MS after the last one opened.
      const windowOpen = now - this.pacedSinceMs >= WAKE_HOLD_POLL_MS;
      const holdNow = held?.() === true;
      if (holdNow || (held !== undefined && !windowOpen && this.pacedWakes >= WAKES_PER_POLL_PACED)) {
        if (holdNow) {
          if (!this.holding) this.counters.pipelineHolds += 1;
          this.holding = true;
        }
        if (this.holdTimer === undefined && !this.aborted)
          this.holdTimer = this.clock.setTimeout(() => {
            this.holdTimer = undefined;
            this.admitWaiting();
          }, WAKE_HOLD_POLL_MS);
        return;
      }
      this.holding = false;
      const next = this.waiting.shift();
      if (next === undefined) return;
      if (windowOpen) {
        this.pacedSinceMs = now;
        this.pacedWakes = 0;
      }
      this.pacedWakes += 1;
      this.counters.devicesAwake += 1;
      next.wake();
    }
  }

  private onSleep(driver: DeviceDriver, clock: DeviceClock, untilMs: number): void {
    this.counters.devicesAwake -= 1;
    this.admitWaiting();
    if (this.isDone(driver)) {
      this.asleepUntil.set(driver, { clock, untilMs });
      this.counters.devicesDone += 1;
      this.options.history.append({
        type: 'device_final',
        mac: driver.mac,
        queued: driver.state.persistent.sd.queue.map((q) => q.name),
      });
      if (this.counters.devicesDone === this.drivers.length) this.finish?.();
      return;
    }
    this.scheduleWake(driver, clock.compressSleep(untilMs, this.options.timeScale, this.options.realSleepMsMax));
  }
}
