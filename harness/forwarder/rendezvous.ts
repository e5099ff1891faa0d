// legacy-two-writers with the edge function outside camfleet (`--forward-webhook` to the user's handler): the
// original's race (PROTOCOL.md §7.2) was two select-then-insert writers per metadata message, both reading before
// either wrote. In process, the pipeline's RaceGate makes that interleaving happen every time; with the handler
// behind HTTP, this rendezvous does, per metadata message (its topic and payload text):
// - the forwarder sends the message to the handler only once the service has read the rows for it (`serviceRead`),
//   so the service reads before the handler writes;
// - the service inserts only once the handler has answered that message (`handlerAnswered`), so the handler has
//   read (and written) before the service writes.
// Either side waits at most `maxWaitMs` (a message one side never sees: a refused one, a handler that never answers).
// Only when both meetings happened does the run count the race as exercised: a `nemesis` event `webhook_race`
// (checker/exercises.ts); otherwise E1 says the run did not exercise it, never a false pass or fail.
import type { HistoryAppender } from '../history/history.ts';
import type { Clock } from '../world/clock.ts';
import { parseTopic } from '../../simulator/protocol/topics.ts';

/** What the pipeline's metadata handler asks of an edge function outside (pipeline/options.ts ExternalEdge). */
export interface EdgeMeeting {
  serviceRead(topic: string, payload: string): void;
  /** Resolves when the handler answered this message (true) or after the wait (false). */
  handlerAnswered(topic: string, payload: string): Promise<boolean>;
}

/** Default wait of either side: the original's 5 s timeout. */
export const RENDEZVOUS_MAX_WAIT_MS = 5000;

interface Slot {
  /** When each signal not yet taken by a waiter came. A signal older than the wait is dropped: it belongs to an
   *  earlier message with the same text (a second copy's answer, a retried one's) and must not release the next. */
  readonly pending: number[];
  /** Each waiter's resolve, oldest first. */
  readonly waiters: ((met: boolean) => void)[];
}

/** One-to-one signals per key: each signal releases one waiter (or the next one to come). */
class Signals {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly clock: Clock,
    private readonly maxWaitMs: number,
  ) {}

  signal(key: string): void {
    const slot = this.slot(key);
    const waiter = slot.waiters.shift();
    if (waiter !== undefined) waiter(true);
    else slot.pending.push(this.clock.nowMs());
    this.tidy(key, slot);
  }

  wait(key: string): Promise<boolean> {
    const slot = this.slot(key);
    const oldestMs = this.clock.nowMs() - this.maxWaitMs;
    while (slot.pending.length > 0 && (slot.pending[0] ?? 0) < oldestMs) slot.pending.shift();
    if (slot.pending.length > 0) {
      slot.pending.shift();
      this.tidy(key, slot);
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        const i = slot.waiters.indexOf(done);
        if (i >= 0) slot.waiters.splice(i, 1);
        this.tidy(key, slot);
        resolve(false);
      }, this.maxWaitMs);
      const done = (met: boolean) => {
        this.clock.clearTimeout(timer);
        resolve(met);
      };
      slot.waiters.push(done);
    });
  }

  private slot(key: string): Slot {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { pending: [], waiters: [] };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private tidy(key: string, slot: Slot): void {
    if (slot.pending.length === 0 && slot.waiters.length === 0) this.slots.delete(key);
  }
}

/** Whether a device message is a metadata message (PROTOCOL.md §3: on /data, a total chunk count, no chunk_id). */
export function isMetadataMessage(topic: string, payload: string): boolean {
  const t = parseTopic(topic);
  if (!t.ok || t.value.channel !== 'data') return false;
  try {
    const m = JSON.parse(payload) as Record<string, unknown>;
    return (
      typeof m === 'object' &&
      m !== null &&
      !('chunk_id' in m) &&
      ('total_chunk_count' in m || 'total_chunks_count' in m)
    );
  } catch {
    return false;
  }
}

export class EdgeRendezvous implements EdgeMeeting {
  private readonly reads: Signals;
  private readonly answers: Signals;
  /** Per key, how many of its sends went out after the service's read (a handler's answer then counts). */
  private readonly sentAfterRead = new Map<string, number>();

  constructor(
    clock: Clock,
    private readonly history: HistoryAppender | undefined,
    maxWaitMs = RENDEZVOUS_MAX_WAIT_MS,
  ) {
    this.reads = new Signals(clock, maxWaitMs);
    this.answers = new Signals(clock, maxWaitMs);
  }

  serviceRead(topic: string, payload: string): void {
    this.reads.signal(key(topic, payload));
  }

  async handlerAnswered(topic: string, payload: string): Promise<boolean> {
    const k = key(topic, payload);
    const met = await this.answers.wait(k);
    const inOrder = this.sentAfterRead.get(k) ?? 0;
    if (met && inOrder > 0) {
      if (inOrder === 1) this.sentAfterRead.delete(k);
      else this.sentAfterRead.set(k, inOrder - 1);
      const t = parseTopic(topic);
      const mac = t.ok ? t.value.deviceId : topic;
      this.history?.append({
        type: 'nemesis',
        fault: 'webhook_race',
        target: mac,
        detail: `${imageNameOf(payload)}: the service read before the handler was called, and writes after it answered`,
      });
    }
    return met;
  }

  private active: () => boolean = () => true;

  /** The forwarder waits for the service only while this holds: a run whose pipeline switches to a profile with no
   *  second writer (the mid-run migration's deploy of `fixed`) has no read to wait for. */
  activeWhile(predicate: () => boolean): void {
    this.active = predicate;
  }

  /** The forwarder's hooks (forwarder.ts DeliveryHooks): a metadata message waits for the service's read. */
  readonly hooks = {
    beforeSend: async (topic: string, payload: string): Promise<void> => {
      if (!this.active() || !isMetadataMessage(topic, payload)) return;
      const k = key(topic, payload);
      if (await this.reads.wait(k)) this.sentAfterRead.set(k, (this.sentAfterRead.get(k) ?? 0) + 1);
    },
    answered: (topic: string, payload: string): void => {
      if (isMetadataMessage(topic, payload)) this.answers.signal(key(topic, payload));
    },
  };
}

const key = (topic: string, payload: string) => `${topic}\n${payload}`;

function imageNameOf(payload: string): string {
  try {
    const name = (JSON.parse(payload) as { image_name?: unknown }).image_name;
    return typeof name === 'string' ? name : '?';
  } catch {
    return '?';
  }
}
