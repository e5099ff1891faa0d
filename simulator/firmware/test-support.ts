// Test-only driver for the firmware core: a virtual clock, a seeded ctx.random, and effect filters.
import type { Chunk, DeviceMessage, Hello, Metadata, ServerMessage } from '../protocol/messages.ts';
import type { FirmwareEffect } from './effects.ts';
import type { FirmwareInput } from './inputs.ts';
import { mulberry32 } from '../random/prng.ts';
import { initialState, makeFirmwareConfig } from './state.ts';
import type { FirmwareConfigOptions, FirmwareState } from './state.ts';
import { step } from './step.ts';

export const DEVICE_ID = 'B8F862F9C1C4';
/** 2026-01-14T10:00:00Z */
export const T0 = Date.UTC(2026, 0, 14, 10, 0, 0);

export class Device {
  state: FirmwareState;
  nowMs: number;
  readonly random: () => number;
  readonly log: FirmwareEffect[] = [];

  constructor(options: Partial<FirmwareConfigOptions> = {}, seed = 1, nowMs = T0) {
    this.state = initialState(makeFirmwareConfig({ deviceId: DEVICE_ID, ...options }), seed);
    this.nowMs = nowMs;
    this.random = mulberry32(seed ^ 0x5eed);
  }

  send(input: FirmwareInput, advanceMs = 0): FirmwareEffect[] {
    this.nowMs += advanceMs;
    const { state, effects } = step(this.state, input, { nowMs: this.nowMs, random: this.random });
    this.state = state;
    this.log.push(...effects);
    return effects;
  }

  msg(message: ServerMessage, advanceMs = 0): FirmwareEffect[] {
    return this.send({ type: 'message', message }, advanceMs);
  }

  /** Fire the currently armed timer (advancing the clock by its delay). */
  fireTimer(): FirmwareEffect[] {
    const timer = this.state.ram.timer;
    if (timer === null) throw new Error('no timer armed');
    return this.send({ type: 'timer', timerId: timer.timerId }, 10_000);
  }

  /** wake + connected: returns the effects of `connected` (HELLO). */
  online(): FirmwareEffect[] {
    this.send({ type: 'wake' });
    return this.send({ type: 'connected' });
  }

  get queue(): string[] {
    return this.state.persistent.sd.queue.map((q) => q.name);
  }
}

export function published(effects: readonly FirmwareEffect[]): DeviceMessage[] {
  const out: DeviceMessage[] = [];
  for (const e of effects) if (e.type === 'publish') out.push(e.message);
  return out;
}
export function hellos(effects: readonly FirmwareEffect[]): Hello[] {
  return published(effects).filter((m): m is Hello => m.kind === 'hello');
}
export function metadatas(effects: readonly FirmwareEffect[]): Metadata[] {
  return published(effects).filter((m): m is Metadata => m.kind === 'metadata');
}
export function chunks(effects: readonly FirmwareEffect[]): Chunk[] {
  return published(effects).filter((m): m is Chunk => m.kind === 'chunk');
}
export function types(effects: readonly FirmwareEffect[]): string[] {
  return effects.map((e) => e.type);
}
export function ofType<T extends FirmwareEffect['type']>(
  effects: readonly FirmwareEffect[],
  type: T,
): Extract<FirmwareEffect, { type: T }>[] {
  return effects.filter((e): e is Extract<FirmwareEffect, { type: T }> => e.type === type);
}
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
