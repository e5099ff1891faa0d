// The webhook forwarder's adapter (harness/forwarder/README.md): every device message it gets goes to the user's
// handler as `POST {topic, payload}` with Node's fetch and the forwarder's own timeout, through a fault layer of the
// forwarder's own faults (slow request or answer, an answer replaced by a 502, a message delivered twice at once).
// What to do after each attempt, and which faults strike it, is decided by core.ts from the run's seeded stream;
// this file only does the fetches and the waits, and records every attempt (history `webhook_delivery`) and every
// fault that struck (history `nemesis`).
import type { Rng } from '../../simulator/random/prng.ts';
import type { HistoryAppender } from '../history/history.ts';
import type { WebhookFaults } from '../nemesis/fault-plan.ts';
import { settledWithin, type Clock } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';
import { redactText } from '../world/redact.ts';
import {
  drawAttemptFaults,
  drawCopies,
  INJECTED_5XX_STATUS,
  nextStep,
  outcomeWord,
  webhookBody,
  WEBHOOK_RETRIES_DEFAULT,
  WEBHOOK_TIMEOUT_MS_DEFAULT,
  type AttemptFaults,
  type AttemptOutcome,
} from './core.ts';

export interface ForwarderStats {
  /** Device messages taken in. */
  messages: number;
  /** Copies delivered of them (a duplicated message counts twice). */
  copies: number;
  attempts: number;
  /** Copies the handler answered 2xx. */
  delivered: number;
  /** Attempts after the first of a copy. */
  retried: number;
  timedOut: number;
  answered5xx: number;
  networkErrors: number;
  /** Copies the handler refused (a 4xx): not retried. */
  refused: number;
  /** Copies still failing after every retry. */
  gaveUp: number;
}

export function emptyForwarderStats(): ForwarderStats {
  return {
    messages: 0,
    copies: 0,
    attempts: 0,
    delivered: 0,
    retried: 0,
    timedOut: 0,
    answered5xx: 0,
    networkErrors: 0,
    refused: 0,
    gaveUp: 0,
  };
}

/** The run's own hooks around a delivery (legacy-two-writers' race gate, harness/forwarder/rendezvous.ts). */
export interface DeliveryHooks {
  /** Awaited once per message before its first request goes out. */
  beforeSend?(topic: string, payload: string): Promise<void>;
  /** Each time the handler answered an attempt of the message with a 2xx (it did its work; an injected 502 after
   *  it included): only such an answer counts as the handler having written. */
  answered?(topic: string, payload: string): void;
}

export interface WebhookDelivererOptions {
  /** The handler's URL; printed only redacted. */
  readonly url: string;
  /** Per attempt; default WEBHOOK_TIMEOUT_MS_DEFAULT (the original's 5 s). */
  readonly timeoutMs?: number;
  /** Retries of a timeout, network error or 5xx; default WEBHOOK_RETRIES_DEFAULT. */
  readonly retries?: number;
  readonly faults: WebhookFaults;
  /** The forwarder's own stream (the run forks it from the seed as `forwarder`). */
  readonly rng: Rng;
  readonly history?: HistoryAppender | undefined;
  /** Backoff waits, fault holds and the ms measured run on it. Default realClock. */
  readonly clock?: Clock;
  readonly hooks?: DeliveryHooks;
  readonly log?: (line: string) => void;
}

/** How long a held copy (the network's, no longer the forwarder's) may take at most once it is sent on. */
const HELD_COPY_MAX_MS = 60_000;

/** Delivers device messages to the handler, with the forwarder's retries and faults. */
export class WebhookDeliverer {
  private readonly counters = emptyForwarderStats();
  private readonly inFlight = new Set<Promise<unknown>>();
  private deliveries = 0;
  /** Aborted by cancel(): the run is over, nothing of it may still be sent, retried or held. */
  private readonly cancelled = new AbortController();
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly retries: number;
  /** The URL without its user info (fetch refuses a URL with credentials) and the headers of every request. */
  private readonly target: { readonly url: string; readonly headers: Record<string, string> };

  constructor(private readonly o: WebhookDelivererOptions) {
    this.target = requestTarget(o.url);
    this.clock = o.clock ?? realClock;
    this.timeoutMs = o.timeoutMs ?? WEBHOOK_TIMEOUT_MS_DEFAULT;
    this.retries = o.retries ?? WEBHOOK_RETRIES_DEFAULT;
  }

  stats(): ForwarderStats {
    return { ...this.counters };
  }

  /** Deliveries and held copies still under way. */
  get busy(): number {
    return this.inFlight.size;
  }

  /** Delivers one device message (twice at once when the duplicate fault strikes it); resolves when every copy is
   *  delivered, refused or given up. Never rejects. */
  deliver(topic: string, payload: Buffer | string): Promise<void> {
    const text = typeof payload === 'string' ? payload : payload.toString('utf8');
    this.counters.messages++;
    const copies = drawCopies(this.o.rng, this.o.faults);
    const run = (async () => {
      await this.o.hooks?.beforeSend?.(topic, text);
      const body = webhookBody(topic, text);
      const delivered = await Promise.all(Array.from({ length: copies }, () => this.deliverCopy(topic, text, body)));
      // Exercised only when the handler took both copies (a 2xx each): a copy it refused tested nothing.
      if (copies > 1 && delivered.every(Boolean))
        this.o.history?.append({
          type: 'nemesis',
          fault: 'webhook_duplicate',
          target: topic,
          detail: `delivered ${copies} times at once, each answered 2xx`,
        });
    })().catch((error: unknown) => this.o.log?.(`forwarder: ${topic}: ${String(error)}`));
    return this.track(run);
  }

  /** Ends what is still under way (requests aborted, no further retry or hold): the run is over. */
  cancel(): void {
    this.cancelled.abort();
  }

  /** Resolves when nothing is under way any more (deliveries, retries, held copies), or after `maxMs`. */
  async idle(maxMs: number): Promise<boolean> {
    const until = this.clock.nowMs() + maxMs;
    while (this.inFlight.size > 0) {
      const left = until - this.clock.nowMs();
      if (left <= 0) return false;
      await settledWithin(this.clock, Promise.all([...this.inFlight]), left);
    }
    return true;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = () => this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Whether the handler took this copy (a 2xx). */
  private async deliverCopy(topic: string, text: string, body: string): Promise<boolean> {
    const delivery = ++this.deliveries;
    this.counters.copies++;
    for (let attempt = 1; ; attempt++) {
      if (this.cancelled.signal.aborted) return false;
      if (attempt > 1) this.counters.retried++;
      this.counters.attempts++;
      const faults = drawAttemptFaults(this.o.rng, this.o.faults);
      if (faults.slow !== undefined)
        this.o.history?.append({
          type: 'nemesis',
          fault: 'webhook_slow',
          target: topic,
          detail: `${faults.slow.where} held ${faults.slow.ms} ms (delivery ${delivery}, attempt ${attempt})`,
        });
      const startedMs = this.clock.nowMs();
      const outcome = await this.attempt(topic, text, body, faults, delivery, attempt);
      const ms = this.clock.nowMs() - startedMs;
      if (outcome.kind === 'timeout') this.counters.timedOut++;
      if (outcome.kind === 'error') this.counters.networkErrors++;
      if (outcome.kind === 'status' && outcome.status >= 500) this.counters.answered5xx++;
      // Cancelled (the run is over): nothing is retried.
      const next = this.cancelled.signal.aborted
        ? ({ kind: 'give_up' } as const)
        : nextStep(outcome, attempt, this.retries);
      this.o.history?.append({
        type: 'webhook_delivery',
        delivery,
        topic,
        attempt,
        outcome: outcomeWord(outcome),
        ms,
        next: next.kind,
        ...(outcome.kind === 'error' ? { error: redactText(outcome.message, [this.o.url]) } : {}),
      });
      switch (next.kind) {
        case 'delivered':
          this.counters.delivered++;
          return true;
        case 'refused':
          this.counters.refused++;
          return false;
        case 'give_up':
          this.counters.gaveUp++;
          this.o.log?.(`forwarder: gave up on ${topic} after ${attempt} attempts (last: ${outcomeWord(outcome)})`);
          return false;
        case 'retry':
          await this.clock.sleep(next.afterMs);
      }
    }
  }

  /** One attempt: the exchange through the fault layer, cut off by the forwarder's own timeout. */
  private async attempt(
    topic: string,
    text: string,
    body: string,
    faults: AttemptFaults,
    delivery: number,
    attempt: number,
  ): Promise<AttemptOutcome> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const exchange = this.track(this.exchange(topic, text, body, faults, signal, delivery, attempt));
    try {
      return { kind: 'status', status: await untilAborted(exchange, signal) };
    } catch (error) {
      if (signal.aborted) return { kind: 'timeout' };
      return { kind: 'error', message: errorMessage(error) };
    }
  }

  /**
   * The request and its answer through the fault layer. Without a slow fault the request is the forwarder's own
   * and its timeout aborts it (the handler may still be working: the retry then runs beside it). A held request or
   * answer belongs to the network: it is sent on, or comes back, whatever the forwarder decided meanwhile.
   */
  private async exchange(
    topic: string,
    text: string,
    body: string,
    faults: AttemptFaults,
    forwarderSignal: AbortSignal,
    delivery: number,
    attempt: number,
  ): Promise<number> {
    const slow = faults.slow;
    const own = slow === undefined ? forwarderSignal : AbortSignal.timeout(slow.ms + HELD_COPY_MAX_MS);
    const signal = AbortSignal.any([own, this.cancelled.signal]);
    if (slow?.where === 'request') await this.clock.sleep(slow.ms);
    signal.throwIfAborted();
    const response = await fetch(this.target.url, {
      method: 'POST',
      headers: this.target.headers,
      body,
      signal,
    });
    await response.arrayBuffer(); // the whole answer: the handler is done with this request
    const handled = response.status >= 200 && response.status < 300;
    if (handled) this.o.hooks?.answered?.(topic, text);
    if (slow?.where === 'answer') await this.clock.sleep(slow.ms);
    // A 502 in place of a failure would test nothing: the fault strikes only an answer that says the work is done.
    if (!faults.replaceWith5xx || !handled) return response.status;
    this.o.history?.append({
      type: 'nemesis',
      fault: 'webhook_5xx',
      target: topic,
      detail: `the handler answered ${response.status}; the forwarder got ${INJECTED_5XX_STATUS} (delivery ${delivery}, attempt ${attempt})`,
    });
    return INJECTED_5XX_STATUS;
  }
}

/** A URL's user and password become a Basic Authorization header: fetch refuses a URL that carries them. */
export function requestTarget(url: string): { url: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const u = new URL(url);
  if (u.username === '' && u.password === '') return { url, headers };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { url: u.toString(), headers };
}

/** `p`, or a rejection as soon as `signal` aborts (p itself goes on; its rejection is then nobody's). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  p.catch(() => {});
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED …): both, in one line. */
function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const why = cause instanceof Error ? `: ${(cause as { code?: string }).code ?? cause.message}` : '';
  return `${error.message}${why}`;
}
