// The firmware v3.5.0 wake cycle as a pure state machine (PROTOCOL.md §4–5; ARCHITECTURE.md §6 sans-I/O):
// step(state, input, ctx) → { state, effects }. No sockets, timers, clocks or Math.random in here: the runner
// performs the effects and feeds back inputs. Any input in any state is accepted; what does not apply is ignored
// (same state object back, no effects).
import type { AckOk, MissingChunks, ServerMessage } from '../protocol/messages.ts';
import { captureImage, capturedInfo, regeneratedImageBytes } from './capture.ts';
import type { FirmwareEffect, SleepSource } from './effects.ts';
import type { FirmwareInput, StepContext, TimestampStyle } from './inputs.ts';
import { chunkMessage, helloMessage, metadataMessage } from './messages-out.ts';
import { chunkCount } from './image.ts';
import { firmwarePolicy, type FirmwarePolicy } from './profile.ts';
import { freshRam } from './state.ts';
import type { FirmwareConfig, FirmwareState, PersistentState, QueuedImage, RamState, WaitKind } from './state.ts';
import { nextOccurrenceUtcMs } from '../protocol/wake-time.ts';

export interface StepResult {
  readonly state: FirmwareState;
  readonly effects: FirmwareEffect[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The working copy of one step: RAM is copied once, persistent state only when it changes. */
interface Draft {
  readonly config: FirmwareConfig;
  /** The profile's deviations from v3.5.0 (profile.ts); all off for fw350. */
  readonly policy: FirmwarePolicy;
  readonly nowMs: number;
  readonly random: () => number;
  readonly timestampStyle: TimestampStyle;
  persistent: PersistentState;
  ram: Mutable<RamState>;
  readonly effects: FirmwareEffect[];
}

export function step(state: FirmwareState, input: FirmwareInput, ctx: StepContext): StepResult {
  const d: Draft = {
    config: state.config,
    policy: firmwarePolicy(state.config.profile),
    nowMs: Number.isFinite(ctx.nowMs) ? ctx.nowMs : 0,
    random: saneRandom(ctx.random),
    timestampStyle: ctx.timestampStyle === 'unpadded' ? 'unpadded' : 'iso',
    persistent: state.persistent,
    ram: { ...state.ram },
    effects: [],
  };
  handle(d, input);
  if (d.effects.length === 0 && d.persistent === state.persistent && sameRam(d.ram, state.ram)) {
    return { state, effects: d.effects };
  }
  return { state: { config: state.config, persistent: d.persistent, ram: d.ram }, effects: d.effects };
}

function handle(d: Draft, input: FirmwareInput): void {
  if (typeof input !== 'object' || input === null) return;
  switch (input.type) {
    case 'wake':
      if (d.ram.phase === 'off' || d.ram.phase === 'asleep') beginWake(d);
      return;
    case 'reboot':
      // Power cycle: timers and the session die with RAM; flash and SD are untouched (PROTOCOL.md §1). The device
      // wakes again once it has booted (bootMs); timer ids go on counting, so the cancelled one is never matched.
      cancelTimer(d);
      d.effects.push({ type: 'disconnect' });
      d.ram = { ...freshRam('booting'), timerSeq: d.ram.timerSeq };
      armTimer(d, 'boot');
      return;
    case 'connected':
      if (d.ram.phase !== 'connecting') return;
      d.ram.phase = 'online';
      d.ram.sessionsThisWake += 1;
      d.ram.retryCount = 0;
      sendHello(d);
      return;
    case 'connect_failed':
      if (d.ram.phase !== 'connecting') return;
      // Offline the device still captures and queues (PROTOCOL.md §1) — once per wholly offline wake.
      if (d.config.captureWhenOffline && d.ram.sessionsThisWake === 0) capture(d);
      sleepAfterSession(d, false);
      return;
    case 'disconnected':
      onDisconnected(d);
      return;
    case 'timer':
      onTimer(d, input.timerId);
      return;
    case 'message':
      if (d.ram.phase === 'online') onMessage(d, input.message);
      return;
    default:
      return;
  }
}

// ---- wake, connection, sleep ----

function beginWake(d: Draft): void {
  d.persistent = { ...d.persistent, sim: { ...d.persistent.sim, wakeSeq: d.persistent.sim.wakeSeq + 1 } };
  d.ram = { ...freshRam('connecting') };
  d.effects.push({ type: 'connect' });
}

function onDisconnected(d: Draft): void {
  if (d.ram.phase !== 'online') return;
  // The session dropped: the in-flight transfer is forgotten (the image stays on SD and is listed in the next
  // HELLO). Reconnect like an MQTT client does, at most retryCountMax times per wake, then sleep.
  cancelTimer(d);
  d.ram.inFlight = null;
  d.ram.drain = null;
  d.ram.retryCount = 0;
  if (d.ram.reconnectCount < d.config.retryCountMax) {
    d.ram.reconnectCount += 1;
    d.ram.phase = 'connecting';
    d.effects.push({ type: 'connect' });
  } else {
    sleepAfterSession(d, false);
  }
}

/** Sleep until the server's wake time if one was given this wake, else for wakeIntervalMsDefault. */
function sleepAfterSession(d: Draft, disconnect: boolean): void {
  if (d.ram.wakeAtMs !== null) sleep(d, d.ram.wakeAtMs, 'server', disconnect);
  else sleep(d, d.nowMs + d.config.wakeIntervalMsDefault, 'default', disconnect);
}

function sleep(d: Draft, untilMs: number, source: SleepSource, disconnect: boolean): void {
  cancelTimer(d);
  if (disconnect) d.effects.push({ type: 'disconnect' });
  d.effects.push({ type: 'sleep', untilMs, source });
  d.ram = { ...freshRam('asleep', untilMs) };
}

// ---- timers ----

function armTimer(d: Draft, kind: WaitKind): void {
  const seq = d.ram.timerSeq + 1;
  // Unique per device for its whole life (wakeSeq is persistent), so a stale timer can never match.
  const timerId = `${kind}:${d.persistent.sim.wakeSeq}.${seq}`;
  const afterMs = {
    hello: d.config.helloTimeoutMs,
    ack: d.config.ackTimeoutMs,
    idle: d.config.idleTimeoutMs,
    boot: d.config.bootMs,
  }[kind];
  d.ram.timerSeq = seq;
  d.ram.timer = { kind, timerId };
  d.effects.push({ type: 'set_timer', timerId, afterMs });
}

function cancelTimer(d: Draft): void {
  if (d.ram.timer === null) return;
  d.effects.push({ type: 'cancel_timer', timerId: d.ram.timer.timerId });
  d.ram.timer = null;
}

function onTimer(d: Draft, timerId: unknown): void {
  const timer = d.ram.timer;
  if (timer === null || timer.timerId !== timerId) return; // stale or foreign
  if (d.ram.phase !== (timer.kind === 'boot' ? 'booting' : 'online')) return;
  d.ram.timer = null;
  switch (timer.kind) {
    case 'boot':
      beginWake(d);
      return;
    case 'hello':
      // Silent server after HELLO: re-send it up to retryCountMax times, then sleep (PROTOCOL.md §4).
      if (d.ram.retryCount < d.config.retryCountMax) {
        d.ram.retryCount += 1;
        sendHello(d);
      } else {
        d.effects.push({ type: 'gave_up', reason: 'hello_unanswered' });
        sleepAfterSession(d, true);
      }
      return;
    case 'ack': {
      const image = d.ram.inFlight === null ? undefined : findBySeq(d.persistent, d.ram.inFlight);
      if (image === undefined) {
        d.ram.inFlight = null;
        advance(d);
        return;
      }
      // No ACK_OK / missing_chunks: re-send the whole image, up to retryCountMax times, then sleep with the
      // image still queued; it is listed in the next HELLO (PROTOCOL.md §4).
      if (d.ram.retryCount < d.config.retryCountMax) {
        d.ram.retryCount += 1;
        publishImage(d, image);
        armTimer(d, 'ack');
      } else {
        d.effects.push({ type: 'gave_up', reason: 'ack_timeout', image_name: image.name });
        sleepAfterSession(d, true);
      }
      return;
    }
    case 'idle':
      // Work done, no wake time given, nothing more from the server.
      sleepAfterSession(d, true);
      return;
  }
}

// ---- server messages ----

function onMessage(d: Draft, message: ServerMessage): void {
  if (typeof message !== 'object' || message === null) return;
  switch (message.kind) {
    case 'capture_image': {
      const image = capture(d);
      startTransfer(d, image);
      return;
    }
    case 'send_image': {
      // The firmware can only send what is on its SD card: an unknown name is ignored.
      const image = findInFlightOrByName(d, message.image_name);
      if (image !== undefined) startTransfer(d, image);
      return;
    }
    case 'send_all_pending':
      onSendAllPending(d);
      return;
    case 'missing_chunks':
      onMissingChunks(d, message);
      return;
    case 'ack_ok':
      onAckOk(d, message);
      return;
    case 'next_wake':
      d.ram.wakeAtMs = wakeTimeMs(d, message.next_wake);
      // A sleep instruction: obeyed now, or as soon as the image in flight is settled.
      if (d.ram.inFlight === null) sleepAfterSession(d, true);
      return;
    default:
      return;
  }
}

function onSendAllPending(d: Draft): void {
  const queue = d.persistent.sd.queue;
  if (queue.length === 0) return;
  const inFlight = d.ram.inFlight;
  const drain: number[] = [];
  for (const image of queue) if (image.captureSeq !== inFlight) drain.push(image.captureSeq);
  d.ram.drain = drain;
  // Stream the queue oldest first, one image per ACK, without waiting for a send_image each (PROTOCOL.md §4).
  if (inFlight === null) {
    cancelTimer(d);
    advance(d);
  }
}

function onMissingChunks(d: Draft, message: MissingChunks): void {
  const image = findInFlightOrByName(d, message.image_name);
  if (image === undefined || !Array.isArray(message.missing_chunks)) return;
  const total = chunkCount(image.sizeBytes, d.config.chunkBytes);
  const seen = new Set<number>();
  for (const id of message.missing_chunks as readonly unknown[]) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= total || seen.has(id)) continue;
    seen.add(id);
  }
  if (seen.size === 0) return; // nothing we could send
  const content = imageToPublish(d, image);
  for (const id of seen) {
    const chunk = chunkMessage(d.config, content, id);
    if (chunk !== undefined) d.effects.push({ type: 'publish', message: chunk });
  }
  // The re-sent chunks complete the in-flight transfer (or adopt this image as in flight, e.g. a cross-wake
  // resume right after HELLO): wait for its ACK again. A server answer, so the silence counter is kept as is.
  if (d.ram.inFlight === null || d.ram.inFlight === image.captureSeq) {
    if (d.ram.inFlight === null) {
      d.ram.retryCount = 0;
      removeFromDrain(d, image.captureSeq);
    }
    d.ram.inFlight = image.captureSeq;
    cancelTimer(d);
    armTimer(d, 'ack');
  }
}

function onAckOk(d: Draft, message: AckOk): void {
  let acted = false;
  const image = ackedImage(d, message);
  if (d.policy.ackDequeuesHead) {
    // fw-dequeue-on-any-ack: the SD queue loses its head whatever the ACK names (even a name no longer queued, a
    // stale or repeated ACK); the transfer the ACK names is still settled by name as v3.5.0 does. The `dequeued`
    // observation names the entry actually removed, so a head that was never stored is a loss (I2).
    const head = d.persistent.sd.queue[0];
    if (head !== undefined) {
      removeFromQueue(d, head);
      acted = true;
    }
    if (image !== undefined) settle(d, image);
  } else if (image !== undefined) {
    dequeue(d, image);
    acted = true;
  }
  if (message.next_wake_time !== undefined) {
    d.ram.wakeAtMs = wakeTimeMs(d, message.next_wake_time);
    acted = true;
  }
  if (!acted) return; // a repeated ACK for an image already gone, and no wake time: nothing to do
  if (d.ram.inFlight !== null) return; // another image is still awaiting its ACK; its timer keeps running
  cancelTimer(d);
  advance(d);
}

function ackedImage(d: Draft, message: AckOk): QueuedImage | undefined {
  return ackedCapture({ config: d.config, persistent: d.persistent, ram: d.ram }, message);
}

/**
 * The queued capture an ACK_OK names (exported for the harness's ACK observer, so it judges the capture the
 * firmware takes): by name as v3.5.0 does — the one in flight, else the oldest with that name — or, when the opt-in
 * "ACK names the capture" option is on and the ACK carries a timestamp and size, the one with that name AND that
 * capture timestamp and size (none queued: the ACK dequeues nothing).
 */
export function ackedCapture(state: FirmwareState, message: AckOk): QueuedImage | undefined {
  if (typeof message.image_name !== 'string') return undefined;
  const timestamp = state.config.ackNamesCapture ? message.timestamp : undefined;
  const size = state.config.ackNamesCapture ? message.image_size : undefined;
  return inFlightOrOldest(
    state,
    (image) =>
      image.name === message.image_name &&
      (typeof timestamp !== 'string' || image.captureTimestamp === timestamp) &&
      (typeof size !== 'number' || image.sizeBytes === size),
  );
}

/** A server wake time as UTC ms; an unparseable one still means "sleep", for the default interval. */
function wakeTimeMs(d: Draft, text: unknown): number {
  const at = typeof text === 'string' ? nextOccurrenceUtcMs(text, d.nowMs) : null;
  return at ?? d.nowMs + d.config.wakeIntervalMsDefault;
}

// ---- transfers ----

function capture(d: Draft): QueuedImage {
  const { persistent, image } = captureImage(d.config, d.persistent, d.nowMs, d.random, d.timestampStyle);
  d.persistent = persistent;
  d.effects.push({ type: 'captured', image: capturedInfo(image) });
  return image;
}

/** Send `image` now (metadata + every chunk) and wait for its ACK. A preempted drain image goes back in line. */
function startTransfer(d: Draft, image: QueuedImage): void {
  const previous = d.ram.inFlight;
  if (previous !== null && previous !== image.captureSeq && d.ram.drain !== null) {
    d.ram.drain = [previous, ...d.ram.drain];
  }
  removeFromDrain(d, image.captureSeq);
  cancelTimer(d);
  d.ram.inFlight = image.captureSeq;
  d.ram.retryCount = 0;
  publishImage(d, image);
  armTimer(d, 'ack');
}

/** Nothing in flight: send the next drain image, or sleep if a wake time is known, or wait for commands. */
function advance(d: Draft): void {
  const drain = d.ram.drain;
  if (drain !== null) {
    for (let i = 0; i < drain.length; i++) {
      const image = findBySeq(d.persistent, drain[i] ?? -1);
      if (image === undefined) continue; // acknowledged meanwhile
      d.ram.drain = drain.slice(i + 1);
      d.ram.inFlight = image.captureSeq;
      d.ram.retryCount = 0;
      publishImage(d, image);
      armTimer(d, 'ack');
      return;
    }
    d.ram.drain = null;
  }
  if (d.ram.wakeAtMs !== null) sleepAfterSession(d, true);
  else armTimer(d, 'idle');
}

/** Metadata, then all chunks back to back, no per-chunk acknowledgement (PROTOCOL.md §3). */
function publishImage(d: Draft, image: QueuedImage): void {
  d.effects.push({ type: 'publish', message: metadataMessage(d.config, image) });
  const content = imageToPublish(d, image);
  const total = chunkCount(image.sizeBytes, d.config.chunkBytes);
  for (let id = 0; id < total; id++) {
    const chunk = chunkMessage(d.config, content, id);
    if (chunk !== undefined) d.effects.push({ type: 'publish', message: chunk });
  }
}

/**
 * The image whose bytes a publication of `image` sends: v3.5.0 reads the SD card every time (the queue entry
 * itself). fw-resend-new-bytes sends the SD card's bytes the first time only; every later publication (a re-send)
 * makes up new ones, seeded by the entry's publication count, which it counts on the SD entry so that a re-send
 * after a reboot is one too. The entry keeps its original bytes and sha256 (what the checker holds the store to).
 */
function imageToPublish(d: Draft, image: QueuedImage): QueuedImage {
  if (!d.policy.resendRegeneratesBytes) return image;
  const published = image.publications ?? 0;
  const counted: QueuedImage = { ...image, publications: published + 1 };
  const queue = d.persistent.sd.queue.map((q) => (q.captureSeq === image.captureSeq ? counted : q));
  d.persistent = { ...d.persistent, sd: { queue } };
  if (published === 0) return image;
  return { ...image, bytes: regeneratedImageBytes(d.persistent.sim.seed, image, published) };
}

function sendHello(d: Draft): void {
  d.effects.push({ type: 'publish', message: helloMessage(d.config, d.persistent.sd.queue) });
  armTimer(d, 'hello');
}

/** ACK_OK: the only way an image leaves the SD queue (PROTOCOL.md §1). */
function dequeue(d: Draft, image: QueuedImage): void {
  removeFromQueue(d, image);
  settle(d, image);
}

function removeFromQueue(d: Draft, image: QueuedImage): void {
  const queue = d.persistent.sd.queue.filter((q) => q.captureSeq !== image.captureSeq);
  d.persistent = { ...d.persistent, sd: { queue } };
  d.effects.push({ type: 'dequeued', image_name: image.name, sha256: image.sha256, captureSeq: image.captureSeq });
}

/** The image is acknowledged: no longer to drain, no longer in flight. */
function settle(d: Draft, image: QueuedImage): void {
  removeFromDrain(d, image.captureSeq);
  if (d.ram.inFlight === image.captureSeq) {
    d.ram.inFlight = null;
    d.ram.retryCount = 0;
  }
}

function removeFromDrain(d: Draft, captureSeq: number): void {
  if (d.ram.drain !== null && d.ram.drain.includes(captureSeq)) {
    d.ram.drain = d.ram.drain.filter((seq) => seq !== captureSeq);
  }
}

// ---- lookups and guards ----

function findBySeq(persistent: PersistentState, captureSeq: number): QueuedImage | undefined {
  return persistent.sd.queue.find((image) => image.captureSeq === captureSeq);
}

/** After a counter reset two queued images can share a name: prefer the one in flight, else the oldest. */
function findInFlightOrByName(d: Draft, name: unknown): QueuedImage | undefined {
  if (typeof name !== 'string') return undefined;
  return inFlightOrOldest(d, (image) => image.name === name);
}

/** The queued image in flight when it matches, else the oldest queued one that matches. */
function inFlightOrOldest(
  state: Pick<FirmwareState, 'persistent' | 'ram'>,
  matches: (image: QueuedImage) => boolean,
): QueuedImage | undefined {
  const inFlight = state.ram.inFlight === null ? undefined : findBySeq(state.persistent, state.ram.inFlight);
  return inFlight !== undefined && matches(inFlight) ? inFlight : state.persistent.sd.queue.find(matches);
}

function saneRandom(random: () => number): () => number {
  return () => {
    const r = random();
    return Number.isFinite(r) && r >= 0 && r < 1 ? r : 0;
  };
}

function sameRam(a: RamState, b: RamState): boolean {
  for (const key of Object.keys(b) as (keyof RamState)[]) if (a[key] !== b[key]) return false;
  return true;
}
