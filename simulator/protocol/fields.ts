// Reading typed fields out of a parsed JSON object, with the aliases of both dialects. Each reader stops decoding
// with a rejection (via `fail`) that names the field and its value. `null` counts as absent.

import type { SensorData } from './messages.ts';
import { isSafeImageName } from './image-name.ts';
import { fail, show } from './reject.ts';

export type JsonObject = Readonly<Record<string, unknown>>;

/** An own property (never the prototype's), with null treated as absent. */
export function get(src: JsonObject, key: string): unknown {
  if (!Object.hasOwn(src, key)) return undefined;
  const v = src[key];
  return v === null ? undefined : v;
}

export function has(src: JsonObject, key: string): boolean {
  return get(src, key) !== undefined;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Found {
  readonly key: string;
  readonly value: unknown;
}

/**
 * The first present key of `keys` (a field and its aliases). If two aliases are both present with different values
 * the message is ambiguous: `bad_field`.
 */
export function pick(src: JsonObject, keys: readonly string[]): Found | undefined {
  let found: Found | undefined;
  for (const key of keys) {
    const value = get(src, key);
    if (value === undefined) continue;
    if (found === undefined) found = { key, value };
    else if (found.value !== value) {
      fail('bad_field', `${found.key} ${show(found.value)} and ${key} ${show(value)} disagree`);
    }
  }
  return found;
}

function required(src: JsonObject, keys: readonly string[]): Found {
  const f = pick(src, keys);
  if (f === undefined) {
    const [first, ...aliases] = keys;
    fail('missing_field', `missing field ${first}${aliases.length > 0 ? ` (or ${aliases.join(', ')})` : ''}`);
  }
  return f;
}

function asString(f: Found): string {
  if (typeof f.value !== 'string') fail('bad_field', `${f.key} ${show(f.value)} is not a string`);
  return f.value;
}

function asNumber(f: Found): number {
  if (typeof f.value !== 'number' || !Number.isFinite(f.value)) {
    fail('bad_field', `${f.key} ${show(f.value)} is not a finite number`);
  }
  return f.value;
}

function asInt(f: Found, min: number): number {
  const n = asNumber(f);
  if (!Number.isSafeInteger(n)) fail('bad_field', `${f.key} ${show(f.value)} is not an integer`);
  if (n < min) fail('bad_field', `${f.key} ${n} is less than ${min}`);
  return n;
}

export function reqString(src: JsonObject, keys: readonly string[]): string {
  return asString(required(src, keys));
}
export function optString(src: JsonObject, keys: readonly string[]): string | undefined {
  const f = pick(src, keys);
  return f === undefined ? undefined : asString(f);
}
export function optNumber(src: JsonObject, keys: readonly string[]): number | undefined {
  const f = pick(src, keys);
  return f === undefined ? undefined : asNumber(f);
}
export function reqInt(src: JsonObject, keys: readonly string[], min: number): number {
  return asInt(required(src, keys), min);
}
export function optInt(src: JsonObject, keys: readonly string[], min: number): number | undefined {
  const f = pick(src, keys);
  return f === undefined ? undefined : asInt(f, min);
}

/** A required image name that passes `isSafeImageName` (`bad_image_name` otherwise). */
export function reqImageName(src: JsonObject, key = 'image_name'): string {
  const f = required(src, [key]);
  return checkImageName(key, f.value);
}

export function checkImageName(what: string, value: unknown): string {
  if (!isSafeImageName(value)) {
    fail('bad_image_name', `${what} ${show(value)} is not a safe file name ([A-Za-z0-9._-], 1–128, no "..")`);
  }
  return value;
}

export const SENSOR_FIELDS = ['temperature', 'humidity', 'pressure', 'gas_resistance'] as const;

/** True if the object carries a temperature or humidity, flat or in `sensor_data` (telemetry classification). */
export function hasClimateReading(src: JsonObject): boolean {
  if (has(src, 'temperature') || has(src, 'humidity')) return true;
  const nested = get(src, 'sensor_data');
  return isJsonObject(nested) && (has(nested, 'temperature') || has(nested, 'humidity'));
}

/**
 * Sensor readings, nested in `sensor_data` (fw350) or flat (spec); a nested value wins over a flat one.
 * Undefined when no reading is present.
 */
export function readSensors(src: JsonObject): SensorData | undefined {
  const nested = get(src, 'sensor_data');
  if (nested !== undefined && !isJsonObject(nested)) {
    fail('bad_field', `sensor_data ${show(nested)} is not an object`);
  }
  const out: { -readonly [K in keyof SensorData]: number } = {};
  let any = false;
  for (const name of SENSOR_FIELDS) {
    const flat = optNumber(src, [name]);
    const inner = nested === undefined ? undefined : optNumber(nested, [name]);
    const value = inner ?? flat;
    if (value !== undefined) {
      out[name] = value;
      any = true;
    }
  }
  return any ? out : undefined;
}
