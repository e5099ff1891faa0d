// Test-only: a small independent model of what firmware v3.5.0 must have queued, sent and kept, and fast-check
// commands that drive the pure core and the model side by side (model.property.test.ts). Expectations come from
// PROTOCOL.md §1, §3–§5 and simulator/firmware/README.md, not from step.ts: the model keeps its own copy of every
// capture's bytes, its own queue, in-flight image, drain set, wake time and retry count, and never calls the
// firmware's helpers (chunking, name lookup, HELLO building, wake-time parsing).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { DeviceMessage, ServerMessage } from '../protocol/messages.ts';
import type { FirmwareEffect } from './effects.ts';
import type { FirmwareInput, StepContext } from './inputs.ts';
import { mulberry32 } from '../random/prng.ts';
import { initialState, makeFirmwareConfig, withImageCounter } from './state.ts';
import type { FirmwareState, Phase } from './state.ts';
import type { StepResult } from './step.ts';
import { step } from './step.ts';
import { DEVICE_ID, T0 } from './test-support.ts';

// ---- what PROTOCOL.md fixes (the config below is built with these, so a changed default cannot hide) ----

/** §3: 1024-byte chunks, the last one shorter. */
const CHUNK_BYTES = 1024;
/** §3: `pending_list` is capped at 10 names. */
const PENDING_LIST_MAX = 10;
/** §4: a silent server is retried up to 3 times. */
const RETRIES = 3;
/** README: the sleep length when the server gave no wake time. */
const WAKE_INTERVAL_DEFAULT_MS = 12 * 60 * 60 * 1000;
const DAY_MS = 86_400_000;
/** An image name no counter in these runs reaches. */
const UNKNOWN_NAME = 'image_999.jpg';

export type StepFn = (state: FirmwareState, input: FirmwareInput, ctx: StepContext) => StepResult;

// ---- the model ----

/** One capture as the model remembers it: its own copy of the bytes read off the SD card when it was taken. */
export interface ModelImage {
  readonly seq: number;
  readonly name: string;
  readonly imageId: number;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly bytes: Uint8Array;
}

export interface FirmwareModel {
  // persistent: flash and SD
  counter: number;
  /** Captures not yet acknowledged, oldest first. */
  queue: ModelImage[];
  /** captureSeqs ever seen (captured) and ever dequeued. */
  readonly seen: Set<number>;
  readonly acked: Set<number>;
  /** Names acknowledged so far, for repeated ACKs. */
  readonly ackedNames: string[];
  /** Server messages generated but lost on the way (never delivered). */
  readonly lost: string[];
  // RAM: lost on reboot and sleep
  phase: Phase;
  /** captureSeq of the image sent last and not yet acknowledged (what ACK_OK / missing_chunks refer to first). */
  inFlight: number | null;
  /** send_all_pending: captures still to stream in this session; null when no drain runs. */
  drain: Set<number> | null;
  /** The sleep-until the server's latest wake time means (computed on receipt), null if none this wake. */
  wakeAt: number | null;
  /** An MQTT session came up during this wake. */
  hadSession: boolean;
  /** HELLO sent and nothing done since: silence re-sends HELLO. */
  awaitingHello: boolean;
  /** Re-sends of the same HELLO / image after silence. */
  silentResends: number;
  /** Reconnects after a dropped session during this wake. */
  reconnects: number;
}

export function initialModel(): FirmwareModel {
  return {
    counter: 0,
    queue: [],
    seen: new Set(),
    acked: new Set(),
    ackedNames: [],
    lost: [],
    phase: 'off',
    inFlight: null,
    drain: null,
    wakeAt: null,
    hadSession: false,
    awaitingHello: false,
    silentResends: 0,
    reconnects: 0,
  };
}

function resetRam(m: FirmwareModel, phase: Phase): void {
  m.phase = phase;
  m.inFlight = null;
  m.drain = null;
  m.wakeAt = null;
  m.hadSession = false;
  m.awaitingHello = false;
  m.silentResends = 0;
  m.reconnects = 0;
}

/** After a counter reset two queued images can share a name: the one in flight wins, else the oldest. */
function resolveName(m: FirmwareModel, name: string | undefined): ModelImage | undefined {
  if (name === undefined) return undefined;
  const inFlight = m.inFlight === null ? undefined : m.queue.find((image) => image.seq === m.inFlight);
  if (inFlight !== undefined && inFlight.name === name) return inFlight;
  return m.queue.find((image) => image.name === name);
}

function queued(m: FirmwareModel, seq: number): ModelImage | undefined {
  return m.queue.find((image) => image.seq === seq);
}

// ---- the real system: the firmware state threaded through step, with the effects it produced ----

export class FirmwareUnderTest {
  state: FirmwareState;
  nowMs = T0;
  readonly log: FirmwareEffect[] = [];
  private readonly random: () => number;

  constructor(
    readonly stepFn: StepFn,
    seed: number,
  ) {
    const config = makeFirmwareConfig({
      deviceId: DEVICE_ID,
      imageKbMean: 3, // 2.1–3.9 KiB: 3 or 4 chunks, so out-of-range chunk ids are easy to hit
      chunkBytes: CHUNK_BYTES,
      pendingListMax: PENDING_LIST_MAX,
      retryCountMax: RETRIES,
      wakeIntervalMsDefault: WAKE_INTERVAL_DEFAULT_MS,
      captureWhenOffline: true,
    });
    this.state = initialState(config, seed);
    this.random = mulberry32(seed ^ 0x5eed);
  }

  deliver(input: FirmwareInput, advanceMs: number): FirmwareEffect[] {
    this.nowMs += advanceMs;
    const { state, effects } = this.stepFn(this.state, input, { nowMs: this.nowMs, random: this.random });
    this.state = state;
    this.log.push(...effects);
    return effects;
  }
}

// ---- assertions shared by every command ----

function publishedIn(effects: readonly FirmwareEffect[]): DeviceMessage[] {
  return effects.flatMap((e) => (e.type === 'publish' ? [e.message] : []));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function chunkTotal(image: ModelImage): number {
  return Math.ceil(image.sizeBytes / CHUNK_BYTES);
}

/** Chunk `id` of the model's own copy of the image. */
function expectedChunk(image: ModelImage, id: number): Uint8Array {
  return image.bytes.subarray(id * CHUNK_BYTES, Math.min((id + 1) * CHUNK_BYTES, image.sizeBytes));
}

function assertChunk(message: DeviceMessage | undefined, image: ModelImage, id: number): void {
  assert.ok(message?.kind === 'chunk', `expected chunk ${id} of ${image.name}, got ${message?.kind}`);
  assert.equal(message.image_name, image.name, 'chunk image_name');
  assert.equal(message.chunk_id, id, `chunk id in a transfer of ${image.name}`);
  assert.equal(message.device_id, DEVICE_ID, 'chunk device_id');
  assert.ok(
    sameBytes(message.payload, expectedChunk(image, id)),
    `chunk ${id} of ${image.name} (capture ${image.seq}) is not the queued image's bytes`,
  );
}

/** A whole transfer (§3, §4): metadata, then chunks 0..N-1 back to back, N = ceil(size / 1024), bytes from SD. */
function assertTransfer(messages: readonly DeviceMessage[], image: ModelImage): void {
  const total = chunkTotal(image);
  assert.equal(messages.length, 1 + total, `a transfer of ${image.name} is metadata + ${total} chunks`);
  const meta = messages[0];
  assert.ok(meta?.kind === 'metadata', `a transfer starts with metadata, got ${meta?.kind}`);
  assert.equal(meta.image_name, image.name, 'metadata image_name');
  assert.equal(meta.image_id, image.imageId, `metadata image_id of ${image.name} (capture ${image.seq})`);
  assert.equal(meta.image_size, image.sizeBytes, `metadata image_size of ${image.name} (capture ${image.seq})`);
  assert.equal(meta.total_chunk_count, total, 'metadata total_chunk_count = ceil(size / 1024)');
  for (let id = 0; id < total; id++) assertChunk(messages[1 + id], image, id);
}

/** The queued image (among `candidates`) a whole transfer carries, by name and bytes; asserts there is one. */
function transferredImage(messages: readonly DeviceMessage[], candidates: readonly ModelImage[]): ModelImage {
  const meta = messages[0];
  assert.ok(meta?.kind === 'metadata', `expected a transfer, got ${meta?.kind ?? 'nothing'}`);
  const matching = candidates.filter((image) => {
    if (image.name !== meta.image_name || messages.length !== 1 + chunkTotal(image)) return false;
    return messages.slice(1).every((m, id) => m.kind === 'chunk' && sameBytes(m.payload, expectedChunk(image, id)));
  });
  assert.equal(matching.length, 1, `the transfer of ${meta.image_name} is not one of the expected images`);
  return matching[0]!;
}

function assertHello(messages: readonly DeviceMessage[], m: FirmwareModel): void {
  assert.equal(messages.length, 1, 'a HELLO alone');
  const hello = messages[0];
  assert.ok(hello?.kind === 'hello', `expected HELLO, got ${hello?.kind}`);
  assert.equal(hello.device_id, DEVICE_ID);
  assert.equal(hello.pendingImg, m.queue.length, 'HELLO pendingImg = queue length');
  assert.deepEqual(
    hello.pending_list,
    m.queue.slice(0, PENDING_LIST_MAX).map((image) => image.name),
    'HELLO pending_list = the first min(10, n) queued names, oldest first',
  );
}

/** The step put the device to sleep: once, last, when the server said (else the default interval). */
function expectSleep(m: FirmwareModel, r: FirmwareUnderTest, effects: readonly FirmwareEffect[], online: boolean) {
  const sleeps = effects.filter((e) => e.type === 'sleep');
  assert.equal(sleeps.length, 1, `expected one sleep, got ${sleeps.length}`);
  const sleep = effects.at(-1);
  assert.ok(sleep?.type === 'sleep', 'sleep is the last effect');
  if (m.wakeAt !== null) {
    assert.equal(sleep.source, 'server');
    assert.equal(sleep.untilMs, m.wakeAt, "sleeps until the server's wake time");
  } else {
    assert.equal(sleep.source, 'default');
    assert.equal(sleep.untilMs, r.nowMs + WAKE_INTERVAL_DEFAULT_MS);
  }
  if (online)
    assert.ok(
      effects.some((e) => e.type === 'disconnect'),
      'an online device disconnects to sleep',
    );
  resetRam(m, 'asleep');
}

function assertNoSleep(effects: readonly FirmwareEffect[]): void {
  assert.ok(!effects.some((e) => e.type === 'sleep' || e.type === 'gave_up'), 'no sleep here');
}

/** A capture in this step: the model takes its own copy of the new SD entry and checks name, counter, hash. */
function recordCapture(m: FirmwareModel, r: FirmwareUnderTest, effects: readonly FirmwareEffect[]): ModelImage {
  const captured = effects.flatMap((e) => (e.type === 'captured' ? [e.image] : []));
  assert.equal(captured.length, 1, 'exactly one capture');
  const info = captured[0]!;
  assert.ok(!m.seen.has(info.captureSeq), `capture ${info.captureSeq} is new`);
  const entry = r.state.persistent.sd.queue.find((q) => q.captureSeq === info.captureSeq);
  assert.ok(entry !== undefined, 'the capture is on the SD card');
  const bytes = entry.bytes.slice();
  const n = m.counter + 1;
  assert.equal(info.name, `image_${n}.jpg`, 'named image_<N>.jpg with N the flash counter at capture');
  assert.equal(info.imageId, n);
  assert.equal(info.sizeBytes, bytes.length);
  assert.equal(info.sha256, createHash('sha256').update(bytes).digest('hex'), 'captured sha256 = the bytes on SD');
  const copy: ModelImage = {
    seq: info.captureSeq,
    name: info.name,
    imageId: n,
    sizeBytes: bytes.length,
    sha256: info.sha256,
    bytes,
  };
  m.counter = n;
  m.seen.add(copy.seq);
  m.queue.push(copy);
  return copy;
}

/** ACK_OK naming a queued image: the model's removal. */
function removeFromModel(m: FirmwareModel, image: ModelImage): void {
  assert.ok(!m.acked.has(image.seq), `capture ${image.seq} acknowledged once`);
  m.acked.add(image.seq);
  m.ackedNames.push(image.name);
  m.queue = m.queue.filter((q) => q.seq !== image.seq);
  m.drain?.delete(image.seq);
  if (m.inFlight === image.seq) m.inFlight = null;
}

/** The device sends `image` whole: it is in flight now; a preempted drain image is still owed. */
function beginTransfer(m: FirmwareModel, image: ModelImage, silenceResend: boolean): void {
  if (m.drain !== null && m.inFlight !== null && m.inFlight !== image.seq && queued(m, m.inFlight) !== undefined) {
    m.drain.add(m.inFlight);
  }
  m.drain?.delete(image.seq);
  m.inFlight = image.seq;
  m.awaitingHello = false;
  if (!silenceResend) m.silentResends = 0;
}

/** Nothing in flight any more: the next image of a drain, else sleep if a wake time is known, else wait. */
function advance(m: FirmwareModel, r: FirmwareUnderTest, effects: readonly FirmwareEffect[]): void {
  m.awaitingHello = false;
  const owed = m.drain === null ? [] : m.queue.filter((image) => m.drain?.has(image.seq));
  const messages = publishedIn(effects);
  if (owed.length > 0) {
    // Any owed image, not necessarily the oldest: §4 fixes no order, and an image a send_image / capture_image
    // interrupted mid-drain is (reasonably) resumed before the older ones.
    const next = transferredImage(messages, owed);
    assertTransfer(messages, next);
    assertNoSleep(effects);
    beginTransfer(m, next, false);
    return;
  }
  m.drain = null;
  assert.equal(messages.length, 0, 'nothing left to send');
  if (m.wakeAt !== null) expectSleep(m, r, effects, true);
  else assertNoSleep(effects);
}

interface StepExpectations {
  /** The device may publish in this step (it was online, or `connected` brings it online). */
  readonly mayPublish: boolean;
  readonly captured: boolean;
  readonly dequeued: readonly ModelImage[];
  readonly counterReset?: boolean;
}

/** After every step: what the device queued, sent and kept agrees with the model. */
function checkStep(
  m: FirmwareModel,
  r: FirmwareUnderTest,
  before: FirmwareState,
  effects: readonly FirmwareEffect[],
  expected: StepExpectations,
): void {
  const after = r.state;
  // publishes only while online, and never after the step's disconnect / sleep
  const firstPublish = effects.findIndex((e) => e.type === 'publish');
  if (firstPublish >= 0) {
    assert.ok(expected.mayPublish, `published while ${before.ram.phase}`);
    const lastPublish = effects.findLastIndex((e) => e.type === 'publish');
    const firstOff = effects.findIndex((e) => e.type === 'disconnect' || e.type === 'sleep');
    assert.ok(firstOff < 0 || firstOff > lastPublish, 'nothing published after disconnect / sleep');
  }
  // captures and removals
  if (!expected.captured) assert.ok(!effects.some((e) => e.type === 'captured'), 'no capture here');
  const dequeued = effects.flatMap((e) =>
    e.type === 'dequeued' ? [{ seq: e.captureSeq, name: e.image_name, sha256: e.sha256 }] : [],
  );
  assert.deepEqual(
    dequeued,
    expected.dequeued.map((image) => ({ seq: image.seq, name: image.name, sha256: image.sha256 })),
    'dequeued = the model removal (ACK_OK naming a queued image only)',
  );
  // the SD queue holds exactly the model's unacknowledged captures, oldest first, byte for byte
  const sd = after.persistent.sd.queue;
  assert.deepEqual(
    sd.map((q) => ({ seq: q.captureSeq, name: q.name, imageId: q.imageId, size: q.sizeBytes, sha256: q.sha256 })),
    m.queue.map((q) => ({ seq: q.seq, name: q.name, imageId: q.imageId, size: q.sizeBytes, sha256: q.sha256 })),
    'SD queue = the unacknowledged captures, oldest first',
  );
  sd.forEach((q, i) => assert.ok(sameBytes(q.bytes, m.queue[i]!.bytes), `SD bytes of ${q.name} unchanged`));
  // the flash counter only grows, except at a counter reset
  assert.equal(after.persistent.flash.imageCounter, m.counter, 'flash counter');
  if (expected.counterReset !== true) {
    assert.ok(after.persistent.flash.imageCounter >= before.persistent.flash.imageCounter, 'counter never decreases');
  }
  // RAM as the model sees it
  assert.equal(after.ram.phase, m.phase, 'phase');
  assert.equal(after.ram.inFlight, m.inFlight, 'image in flight');
  const timed = m.phase === 'online' || m.phase === 'booting';
  assert.equal(after.ram.timer !== null, timed, `a timer is armed exactly while online or booting (${m.phase})`);
  if (m.phase === 'booting') assert.equal(after.ram.timer?.kind, 'boot');
  if (m.phase === 'asleep' || m.phase === 'booting') {
    assert.equal(after.ram.drain, null, 'RAM lost: drain');
    assert.equal(after.ram.wakeAtMs, null, 'RAM lost: wake time');
    assert.equal(after.ram.retryCount, 0, 'RAM lost: retry count');
  }
}

// ---- server messages: generated with a name *pick*, resolved against the model when run ----

type NamePick =
  | { readonly pick: 'queued'; readonly index: number }
  | { readonly pick: 'in_flight' }
  | { readonly pick: 'acked' }
  | { readonly pick: 'unknown' };

/** `H:MMAM|PM` in UTC (§4), as text and as the model's own hour / minute. */
interface WakeSpec {
  readonly text: string;
  readonly hour24: number;
  readonly minute: number;
}

type MessageSpec =
  | { readonly kind: 'capture_image' }
  | { readonly kind: 'send_image'; readonly name: NamePick }
  | { readonly kind: 'send_all_pending' }
  | { readonly kind: 'missing_chunks'; readonly name: NamePick; readonly ids: readonly number[] }
  | { readonly kind: 'ack_ok'; readonly name: NamePick | null; readonly wake: WakeSpec | null }
  | { readonly kind: 'next_wake'; readonly wake: WakeSpec };

function showPick(pick: NamePick): string {
  return pick.pick === 'queued' ? `queued#${pick.index}` : pick.pick;
}

/** How a command prints in a counterexample: the name *pick* (resolved against the model when run). */
function showSpec(spec: MessageSpec): string {
  switch (spec.kind) {
    case 'capture_image':
    case 'send_all_pending':
      return spec.kind;
    case 'send_image':
      return `send_image(${showPick(spec.name)})`;
    case 'missing_chunks':
      return `missing_chunks(${showPick(spec.name)}, [${spec.ids.join(',')}])`;
    case 'ack_ok':
      return `ACK_OK(${spec.name === null ? 'no name' : showPick(spec.name)}${spec.wake === null ? '' : `, ${spec.wake.text}`})`;
    case 'next_wake':
      return `next_wake(${spec.wake.text})`;
  }
}

function pickName(m: FirmwareModel, pick: NamePick): string {
  switch (pick.pick) {
    case 'queued':
      return m.queue.length === 0 ? UNKNOWN_NAME : m.queue[pick.index % m.queue.length]!.name;
    case 'in_flight': {
      const image = m.inFlight === null ? undefined : queued(m, m.inFlight);
      return image?.name ?? m.queue[0]?.name ?? UNKNOWN_NAME;
    }
    case 'acked':
      return m.ackedNames.at(-1) ?? UNKNOWN_NAME;
    case 'unknown':
      return UNKNOWN_NAME;
  }
}

function toMessage(m: FirmwareModel, spec: MessageSpec): ServerMessage {
  switch (spec.kind) {
    case 'capture_image':
    case 'send_all_pending':
      return { kind: spec.kind };
    case 'send_image':
      return { kind: 'send_image', image_name: pickName(m, spec.name) };
    case 'missing_chunks':
      return { kind: 'missing_chunks', image_name: pickName(m, spec.name), missing_chunks: spec.ids };
    case 'ack_ok':
      return {
        kind: 'ack_ok',
        ...(spec.name === null ? {} : { image_name: pickName(m, spec.name) }),
        ...(spec.wake === null ? {} : { next_wake_time: spec.wake.text }),
      };
    case 'next_wake':
      return { kind: 'next_wake', next_wake: spec.wake.text };
  }
}

/** The first instant strictly after `nowMs` whose UTC clock reads hour:minute (§4: wake times are UTC). */
function nextWakeMs(wake: WakeSpec, nowMs: number): number {
  const midnight = nowMs - (nowMs % DAY_MS);
  const today = midnight + (wake.hour24 * 60 + wake.minute) * 60_000;
  return today > nowMs ? today : today + DAY_MS;
}

// ---- commands ----

type Cmd = fc.Command<FirmwareModel, FirmwareUnderTest>;

/** RTC wake, then `connected` (online) or `connect_failed` (an offline wake still captures one image, §1). */
export class WakeCommand implements Cmd {
  constructor(readonly online: boolean) {}
  check(m: Readonly<FirmwareModel>): boolean {
    return m.phase === 'off' || m.phase === 'asleep';
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    const before = r.state;
    const sleepUntil = before.ram.sleepUntilMs ?? r.nowMs;
    const effects = r.deliver({ type: 'wake' }, Math.max(1000, sleepUntil - r.nowMs));
    assert.deepEqual(effects, [{ type: 'connect' }], 'wake → connect');
    resetRam(m, 'connecting');
    checkStep(m, r, before, effects, { mayPublish: false, captured: false, dequeued: [] });
    connect(m, r, this.online);
  }
  toString(): string {
    return this.online ? 'wake+connected' : 'wake+connect_failed';
  }
}

function connect(m: FirmwareModel, r: FirmwareUnderTest, ok: boolean): void {
  const before = r.state;
  const effects = r.deliver({ type: ok ? 'connected' : 'connect_failed' }, 1000);
  if (ok) {
    m.phase = 'online';
    m.hadSession = true;
    m.awaitingHello = true;
    m.silentResends = 0;
    assertHello(publishedIn(effects), m);
    assertNoSleep(effects);
    checkStep(m, r, before, effects, { mayPublish: true, captured: false, dequeued: [] });
    return;
  }
  const captures = !m.hadSession; // once per wholly offline wake
  if (captures) recordCapture(m, r, effects);
  assert.ok(!effects.some((e) => e.type === 'gave_up'), 'a failed connect is not a give-up');
  expectSleep(m, r, effects, false);
  checkStep(m, r, before, effects, { mayPublish: false, captured: captures, dequeued: [] });
}

/** `connected` / `connect_failed` for a connect the device started itself (after a boot or a dropped session). */
export class ConnectCommand implements Cmd {
  constructor(readonly ok: boolean) {}
  check(m: Readonly<FirmwareModel>): boolean {
    return m.phase === 'connecting';
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    connect(m, r, this.ok);
  }
  toString(): string {
    return this.ok ? 'connected' : 'connect_failed';
  }
}

/** An input that does not apply in the current phase: ignored, same state, no effects (README). */
export class StrayInputCommand implements Cmd {
  constructor(readonly type: 'wake' | 'connected' | 'connect_failed' | 'disconnected') {}
  check(m: Readonly<FirmwareModel>): boolean {
    if (this.type === 'wake') return m.phase !== 'off' && m.phase !== 'asleep';
    if (this.type === 'disconnected') return m.phase !== 'online';
    return m.phase !== 'connecting';
  }
  run(_m: FirmwareModel, r: FirmwareUnderTest): void {
    const before = r.state;
    const effects = r.deliver({ type: this.type }, 1000);
    assert.deepEqual(effects, [], `${this.type} while ${before.ram.phase} is ignored`);
    assert.equal(r.state, before, `${this.type} while ${before.ram.phase} leaves the state as it was`);
  }
  toString(): string {
    return `stray ${this.type}`;
  }
}

/** A server message reaching a device that is not online (a stale delivery): ignored, nothing sent. */
export class StrayMessageCommand implements Cmd {
  constructor(readonly spec: MessageSpec) {}
  check(m: Readonly<FirmwareModel>): boolean {
    return m.phase !== 'online';
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    const before = r.state;
    const effects = r.deliver({ type: 'message', message: toMessage(m, this.spec) }, 1000);
    assert.deepEqual(effects, [], `a message while ${m.phase} is ignored`);
    assert.equal(r.state, before, `a message while ${m.phase} leaves the state as it was`);
  }
  toString(): string {
    return `stray ${showSpec(this.spec)}`;
  }
}

/** A server message delivered to the online device (PROTOCOL.md §4). */
export class MessageCommand implements Cmd {
  constructor(readonly spec: MessageSpec) {}
  check(m: Readonly<FirmwareModel>): boolean {
    return m.phase === 'online';
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    const message = toMessage(m, this.spec);
    const before = r.state;
    const effects = r.deliver({ type: 'message', message }, 1000);
    const messages = publishedIn(effects);
    let captured = false;
    const dequeued: ModelImage[] = [];
    switch (message.kind) {
      case 'capture_image': {
        // take a picture now, queue it, send it (§4)
        const image = recordCapture(m, r, effects);
        captured = true;
        assertTransfer(messages, image);
        assertNoSleep(effects);
        beginTransfer(m, image, false);
        break;
      }
      case 'send_image': {
        // send (or re-send) that queued image; an unknown name cannot be sent
        const image = resolveName(m, message.image_name);
        if (image === undefined) {
          assert.deepEqual(effects, [], 'send_image of an unknown name is ignored');
          break;
        }
        assertTransfer(messages, image);
        assertNoSleep(effects);
        beginTransfer(m, image, false);
        break;
      }
      case 'send_all_pending': {
        // stream every queued image, oldest first, one per ACK (§4)
        if (m.queue.length === 0) {
          assert.deepEqual(effects, [], 'send_all_pending with nothing queued is ignored');
          break;
        }
        m.drain = new Set(m.queue.filter((image) => image.seq !== m.inFlight).map((image) => image.seq));
        if (m.inFlight !== null) {
          assert.equal(messages.length, 0, 'the image in flight is settled first');
          assertNoSleep(effects);
          break;
        }
        const oldest = m.queue[0]!;
        assertTransfer(messages, oldest);
        assertNoSleep(effects);
        beginTransfer(m, oldest, false);
        break;
      }
      case 'missing_chunks': {
        // re-send exactly the valid requested chunks of the named image, nothing else (§4, IT-02)
        const image = resolveName(m, message.image_name);
        const total = image === undefined ? 0 : chunkTotal(image);
        const ids = [...new Set(message.missing_chunks)].filter((id) => Number.isInteger(id) && id >= 0 && id < total);
        assertNoSleep(effects);
        if (image === undefined || ids.length === 0) {
          assert.deepEqual(effects, [], 'missing_chunks with nothing to send is ignored');
          break;
        }
        const sentIds = messages.map((msg) => (msg.kind === 'chunk' ? msg.chunk_id : -1));
        assert.deepEqual(
          [...sentIds].sort((a, b) => a - b),
          [...ids].sort((a, b) => a - b),
          'missing_chunks publishes exactly the valid requested ids',
        );
        messages.forEach((msg, i) => assertChunk(msg, image, sentIds[i]!));
        if (m.inFlight === null) {
          // nothing else awaited: the device now waits for this image's ACK
          m.inFlight = image.seq;
          m.drain?.delete(image.seq);
          m.awaitingHello = false;
          m.silentResends = 0;
        }
        break;
      }
      case 'ack_ok': {
        // image stored: remove it from the SD queue (the only way out, §1); sleep at the wake time if given
        const image = resolveName(m, message.image_name);
        if (image !== undefined) {
          removeFromModel(m, image);
          dequeued.push(image);
        }
        const wake = this.spec.kind === 'ack_ok' ? this.spec.wake : null;
        if (wake !== null) m.wakeAt = nextWakeMs(wake, r.nowMs);
        if (image === undefined && wake === null) {
          assert.deepEqual(effects, [], 'a repeated / unknown ACK_OK without a wake time does nothing');
          break;
        }
        if (m.inFlight !== null) {
          assert.equal(messages.length, 0, 'another image is still awaited');
          assertNoSleep(effects);
          break;
        }
        advance(m, r, effects);
        break;
      }
      case 'next_wake': {
        // a sleep instruction: now, or once the image in flight is settled
        if (this.spec.kind === 'next_wake') m.wakeAt = nextWakeMs(this.spec.wake, r.nowMs);
        assert.equal(messages.length, 0, 'next_wake sends nothing');
        if (m.inFlight === null) expectSleep(m, r, effects, true);
        else assertNoSleep(effects);
        break;
      }
    }
    checkStep(m, r, before, effects, { mayPublish: true, captured, dequeued });
  }
  toString(): string {
    return showSpec(this.spec);
  }
}

/** A server message generated but lost on the way: the device never sees it; the model records it. */
export class LostMessageCommand implements Cmd {
  constructor(readonly spec: MessageSpec) {}
  check(): boolean {
    return true;
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    m.lost.push(JSON.stringify(toMessage(m, this.spec)));
    const before = r.state;
    checkStep(m, r, before, [], { mayPublish: false, captured: false, dequeued: [] });
  }
  toString(): string {
    return `lost ${showSpec(this.spec)}`;
  }
}

/** The firmware timer armed now fires (its id read from the state, as the runner would). */
export class TimerCommand implements Cmd {
  check(m: Readonly<FirmwareModel>): boolean {
    return m.phase === 'online' || m.phase === 'booting';
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    const before = r.state;
    const timer = before.ram.timer;
    assert.ok(timer !== null, `a timer is armed while ${m.phase}`);
    const effects = r.deliver({ type: 'timer', timerId: timer.timerId }, 10_000);
    const messages = publishedIn(effects);
    if (m.phase === 'booting') {
      // booted: a new wake begins
      assert.deepEqual(effects, [{ type: 'connect' }], 'boot done → connect');
      resetRam(m, 'connecting');
      checkStep(m, r, before, effects, { mayPublish: false, captured: false, dequeued: [] });
      return;
    }
    const inFlight = m.inFlight === null ? undefined : queued(m, m.inFlight);
    const gaveUp = effects.flatMap((e) => (e.type === 'gave_up' ? [e] : []));
    if (inFlight !== undefined || m.awaitingHello) {
      // silence: re-send the same thing up to 3 times, then sleep with the queue kept (§4)
      if (m.silentResends < RETRIES) {
        assertNoSleep(effects);
        if (inFlight !== undefined) {
          assertTransfer(messages, inFlight);
          beginTransfer(m, inFlight, true);
        } else assertHello(messages, m);
        m.silentResends += 1;
      } else {
        assert.equal(messages.length, 0, 'no fourth re-send');
        assert.equal(gaveUp.length, 1, 'gave_up after the retries');
        assert.equal(gaveUp[0]?.reason, inFlight !== undefined ? 'ack_timeout' : 'hello_unanswered');
        if (inFlight !== undefined) assert.equal(gaveUp[0]?.image_name, inFlight.name);
        expectSleep(m, r, effects, true);
      }
    } else {
      // work done and nothing more from the server: sleep
      assert.equal(messages.length, 0, 'an idle device sends nothing');
      assert.equal(gaveUp.length, 0);
      expectSleep(m, r, effects, true);
    }
    checkStep(m, r, before, effects, { mayPublish: true, captured: false, dequeued: [] });
  }
  toString(): string {
    return 'timer fires';
  }
}

/** Power cycle: RAM lost, flash and SD kept; the device boots (§1, README). */
export class RebootCommand implements Cmd {
  check(): boolean {
    return true;
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    const before = r.state;
    const effects = r.deliver({ type: 'reboot' }, 1000);
    assert.ok(!effects.some((e) => e.type === 'publish' || e.type === 'sleep' || e.type === 'captured'));
    assert.deepEqual(r.state.persistent.sd.queue, before.persistent.sd.queue, 'SD survives a reboot');
    assert.deepEqual(r.state.persistent.flash, before.persistent.flash, 'flash survives a reboot');
    const ram = r.state.ram;
    assert.deepEqual(
      { phase: ram.phase, inFlight: ram.inFlight, drain: ram.drain, wakeAtMs: ram.wakeAtMs, retry: ram.retryCount },
      { phase: 'booting', inFlight: null, drain: null, wakeAtMs: null, retry: 0 },
      'RAM lost on reboot',
    );
    resetRam(m, 'booting');
    checkStep(m, r, before, effects, { mayPublish: false, captured: false, dequeued: [] });
  }
  toString(): string {
    return 'reboot';
  }
}

/** The MQTT session drops: the transfer in flight is forgotten (the image stays queued); reconnect or sleep. */
export class DisconnectedCommand implements Cmd {
  check(m: Readonly<FirmwareModel>): boolean {
    return m.phase === 'online';
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    const before = r.state;
    const effects = r.deliver({ type: 'disconnected' }, 1000);
    assert.equal(publishedIn(effects).length, 0);
    m.inFlight = null;
    m.drain = null;
    m.awaitingHello = false;
    m.silentResends = 0;
    if (m.reconnects < RETRIES) {
      assert.ok(effects.at(-1)?.type === 'connect', 'reconnects');
      assertNoSleep(effects);
      m.reconnects += 1;
      m.phase = 'connecting';
    } else {
      assert.ok(!effects.some((e) => e.type === 'connect'), 'no fourth reconnect');
      expectSleep(m, r, effects, false);
    }
    checkStep(m, r, before, effects, { mayPublish: false, captured: false, dequeued: [] });
  }
  toString(): string {
    return 'disconnected';
  }
}

/** A reflash / lost NVS write sets the flash counter back (§1): names are reused from here on. */
export class CounterResetCommand implements Cmd {
  constructor(readonly to: number) {}
  check(m: Readonly<FirmwareModel>): boolean {
    return m.counter > 0;
  }
  run(m: FirmwareModel, r: FirmwareUnderTest): void {
    const before = r.state;
    m.counter = Math.min(this.to, m.counter - 1);
    r.state = withImageCounter(r.state, m.counter);
    checkStep(m, r, before, [], { mayPublish: false, captured: false, dequeued: [], counterReset: true });
  }
  toString(): string {
    return `counter reset to ≤${this.to}`;
  }
}

// ---- arbitraries ----

const WAKE_TIMES: readonly WakeSpec[] = [
  { text: '3:00PM', hour24: 15, minute: 0 },
  { text: '12:00AM', hour24: 0, minute: 0 },
  { text: '12:00PM', hour24: 12, minute: 0 },
  { text: '9:05AM', hour24: 9, minute: 5 },
  { text: '11:59PM', hour24: 23, minute: 59 },
];

const namePickArb: fc.Arbitrary<NamePick> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(20).map((index): NamePick => ({ pick: 'queued', index })) },
  { weight: 3, arbitrary: fc.constant<NamePick>({ pick: 'in_flight' }) },
  { weight: 1, arbitrary: fc.constant<NamePick>({ pick: 'acked' }) },
  { weight: 1, arbitrary: fc.constant<NamePick>({ pick: 'unknown' }) },
);
const wakeArb = fc.constantFrom(...WAKE_TIMES);

export const messageSpecArb: fc.Arbitrary<MessageSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<MessageSpec>({ kind: 'capture_image' }) },
  { weight: 2, arbitrary: namePickArb.map((name): MessageSpec => ({ kind: 'send_image', name })) },
  { weight: 1, arbitrary: fc.constant<MessageSpec>({ kind: 'send_all_pending' }) },
  {
    weight: 2,
    arbitrary: fc
      .record({ name: namePickArb, ids: fc.array(fc.integer({ min: -2, max: 7 }), { maxLength: 6 }) })
      .map(({ name, ids }): MessageSpec => ({ kind: 'missing_chunks', name, ids })),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({
        name: fc.option(namePickArb, { freq: 8 }),
        wake: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: wakeArb }),
      })
      .map(({ name, wake }): MessageSpec => ({ kind: 'ack_ok', name, wake })),
  },
  { weight: 1, arbitrary: wakeArb.map((wake): MessageSpec => ({ kind: 'next_wake', wake })) },
);

/** Every command, weighted so that most of a run is spent online (where messages matter). */
export function firmwareCommandArbs(): fc.Arbitrary<Cmd>[] {
  const w = (weight: number, arbitrary: fc.Arbitrary<Cmd>) => ({ weight, arbitrary });
  // Commands whose check fails for the model at that point (a message while asleep) are skipped by modelRun.
  return [
    fc.oneof(
      w(6, fc.constant(new WakeCommand(true))),
      w(1, fc.constant(new WakeCommand(false))),
      w(4, fc.constant(new ConnectCommand(true))),
      w(1, fc.constant(new ConnectCommand(false))),
      w(
        14,
        messageSpecArb.map((spec) => new MessageCommand(spec)),
      ),
      w(
        1,
        messageSpecArb.map((spec) => new LostMessageCommand(spec)),
      ),
      w(
        1,
        messageSpecArb.map((spec) => new StrayMessageCommand(spec)),
      ),
      w(5, fc.constant(new TimerCommand())),
      w(1, fc.constant(new RebootCommand())),
      w(1, fc.constant(new DisconnectedCommand())),
      w(
        1,
        fc.constantFrom('wake', 'connected', 'connect_failed', 'disconnected').map((t) => new StrayInputCommand(t)),
      ),
      w(
        1,
        fc.nat(3).map((to) => new CounterResetCommand(to)),
      ),
    ),
  ];
}

/** A run: a device with `offlineWakes` images already queued (offline wakes, checked too), then the commands. */
export function runModel(stepFn: StepFn, seed: number, offlineWakes: number, cmds: Iterable<Cmd>): void {
  fc.modelRun(() => {
    const model = initialModel();
    const real = new FirmwareUnderTest(stepFn, seed);
    const offline = new WakeCommand(false);
    for (let i = 0; i < offlineWakes; i++) offline.run(model, real);
    return { model, real };
  }, cmds);
}

/** The correct device. */
export const firmwareStep: StepFn = step;
