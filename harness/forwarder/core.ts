// The webhook forwarder's decisions (harness/forwarder/README.md), pure: which of the forwarder's own faults strike
// a message and an attempt (from draws the caller passes in: the run's seeded stream, never Math.random), what an
// attempt's outcome means (delivered, refused, retry, give up) and how long to wait before the next try. The
// adapter (forwarder.ts) does the fetches and the timers and asks these.
import type { Rng } from '../../simulator/random/prng.ts';
import type { WebhookFaults } from '../nemesis/fault-plan.ts';

/** The original mqtt-service's timeout on its call to the edge function (PROTOCOL.md §7.2). */
export const WEBHOOK_TIMEOUT_MS_DEFAULT = 5000;
/** Retries after the first attempt (so at most 4 attempts) of a timeout, a network error or a 5xx. */
export const WEBHOOK_RETRIES_DEFAULT = 3;
/** The first retry waits this long, each next one twice as long, at most WEBHOOK_BACKOFF_MAX_MS. */
export const WEBHOOK_BACKOFF_BASE_MS = 100;
export const WEBHOOK_BACKOFF_MAX_MS = 2000;

/** How one attempt ended, as the forwarder saw it. */
export type AttemptOutcome =
  /** The handler (or the fault layer in its place) answered with this HTTP status. */
  | { readonly kind: 'status'; readonly status: number }
  /** No answer within the forwarder's timeout. */
  | { readonly kind: 'timeout' }
  /** The request failed without an answer (connection refused or reset, DNS…). */
  | { readonly kind: 'error'; readonly message: string };

/** What to do after an attempt. */
export type NextStep =
  /** A 2xx: the message is delivered. */
  | { readonly kind: 'delivered' }
  /** Any other answer below 500 (4xx, an unfollowed 3xx): the handler refused it; another try would be refused too. */
  | { readonly kind: 'refused' }
  | { readonly kind: 'retry'; readonly afterMs: number }
  /** A retryable failure with no retry left. */
  | { readonly kind: 'give_up' };

/** A timeout, a network error and a 5xx are worth another try; anything else the handler decided. */
export function isRetryable(outcome: AttemptOutcome): boolean {
  return outcome.kind !== 'status' || outcome.status >= 500;
}

/** The wait before retry number `retry` (1 = the first retry): 100, 200, 400 … ms, at most 2 s. */
export function backoffMs(retry: number): number {
  return Math.min(WEBHOOK_BACKOFF_MAX_MS, WEBHOOK_BACKOFF_BASE_MS * 2 ** Math.max(0, retry - 1));
}

/** After attempt number `attempt` (1-based) ended in `outcome`, with `retriesMax` retries allowed in all. */
export function nextStep(outcome: AttemptOutcome, attempt: number, retriesMax: number): NextStep {
  if (outcome.kind === 'status' && outcome.status >= 200 && outcome.status < 300) return { kind: 'delivered' };
  if (!isRetryable(outcome)) return { kind: 'refused' };
  return attempt <= retriesMax ? { kind: 'retry', afterMs: backoffMs(attempt) } : { kind: 'give_up' };
}

/** Where a slow fault holds an attempt: its request on the way to the handler, or the handler's answer on the way
 *  back (the handler has then done its work). */
export type SlowWhere = 'request' | 'answer';

/** The faults that strike one attempt. */
export interface AttemptFaults {
  readonly slow: { readonly where: SlowWhere; readonly ms: number } | undefined;
  /** The handler's answer is replaced by a 502 once it has answered. */
  readonly replaceWith5xx: boolean;
}

/** The status an injected 5xx answers with (a proxy in front of the handler that failed to pass its answer on). */
export const INJECTED_5XX_STATUS = 502;

/**
 * The faults of one attempt, from three draws of `rng` whatever the rates (so a rate of 0 never shifts the draws of
 * the next attempts): slow (and, in the same draw's lower or upper half, where), then 5xx.
 */
export function drawAttemptFaults(rng: Rng, faults: WebhookFaults): AttemptFaults {
  const slowDraw = rng.next();
  const whereDraw = rng.next();
  const errorDraw = rng.next();
  const where: SlowWhere = whereDraw < 0.5 ? 'request' : 'answer';
  const slow = slowDraw < faults.slowRate && faults.slowMs > 0 ? { where, ms: faults.slowMs } : undefined;
  return { slow, replaceWith5xx: errorDraw < faults.error5xxRate };
}

/** How many times a message is delivered at once: 2 when the duplicate fault strikes it (one draw per message). */
export function drawCopies(rng: Rng, faults: WebhookFaults): 1 | 2 {
  return rng.next() < faults.duplicateRate ? 2 : 1;
}

/** The body the forwarder POSTs for a device message, as the original mqtt-service did: the topic and the payload
 *  as UTF-8 text (the device's JSON, unparsed). */
export function webhookBody(topic: string, payload: Buffer | string): string {
  return JSON.stringify({ topic, payload: typeof payload === 'string' ? payload : payload.toString('utf8') });
}

/** A delivery's outcome word for the history and the counters. */
export function outcomeWord(outcome: AttemptOutcome): string {
  return outcome.kind === 'status' ? String(outcome.status) : outcome.kind;
}
