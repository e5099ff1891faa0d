// Rejections: the stable codes, and the internal short-circuit the decoders use to stop at the first problem.
// RejectError never escapes this package: every public decoder catches it and returns `{ ok: false, error }`.

import type { Decoded, RejectCode, Rejection } from './messages.ts';

/** Every RejectCode, for tests and for counting rejections by code. */
export const REJECT_CODES = [
  'unknown_topic',
  'bad_device_id',
  'device_id_mismatch',
  'not_json',
  'not_object',
  'unclassifiable',
  'missing_field',
  'bad_field',
  'bad_image_name',
  'bad_base64',
  'chunk_id_out_of_range',
  'total_chunks_absurd',
  'size_chunks_mismatch',
  'payload_too_large',
  'total_chunks_changed',
  'chunk_before_metadata',
] as const satisfies readonly RejectCode[];

// Compile-time check that REJECT_CODES lists every RejectCode.
type _MissingCodes = Exclude<RejectCode, (typeof REJECT_CODES)[number]>;
const _allCodesListed: [_MissingCodes] extends [never] ? true : _MissingCodes = true;
void _allCodesListed;

export function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

export function rejected<T = never>(code: RejectCode, reason: string): Decoded<T> {
  return { ok: false, error: { code, reason } };
}

export class RejectError extends Error {
  readonly rejection: Rejection;
  constructor(rejection: Rejection) {
    super(rejection.reason);
    this.rejection = rejection;
  }
}

/** Stop decoding with this rejection (caught by `guard`). */
export function fail(code: RejectCode, reason: string): never {
  throw new RejectError({ code, reason });
}

/**
 * Run a decoding step, turning a RejectError into a rejection. Anything else thrown is a bug in this package; it is
 * still returned as a rejection (the decoders never throw) with a reason starting `internal decoder error`.
 */
export function guard<T>(step: () => T): Decoded<T> {
  try {
    return ok(step());
  } catch (e) {
    if (e instanceof RejectError) return { ok: false, error: e.rejection };
    return rejected('unclassifiable', `internal decoder error: ${errorText(e)}`);
  }
}

/** A short, safe rendering of a wire value for a rejection reason. */
export function show(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : show(e);
}
