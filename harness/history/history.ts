// An append-only, in-memory history with an optional NDJSON sink. Appends are synchronous so the sequence
// numbers are exactly the order in which this process observed things.
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { realClock } from '../world/live/real-clock.ts';
import { redactText } from '../world/redact.ts';
import type { HistoryEvent, NewHistoryEvent } from './events.ts';

/** Where the fleet records what its devices do: the run's History, or, on a fleet thread, a sink that hands the
 *  events to the main thread's History (harness/run/fleet-worker.ts), which numbers and stamps them. */
export interface HistoryAppender {
  append(event: NewHistoryEvent): void;
}

export class History implements HistoryAppender {
  readonly events: HistoryEvent[] = [];
  private seq = 0;
  private sink: WriteStream | undefined;
  private readonly listeners: ((event: HistoryEvent) => void)[] = [];

  /** `now` stamps each event's atMs: the run's clock (harness/world/clock.ts), default real time. */
  constructor(private readonly now: () => number = () => realClock.nowMs()) {}

  /**
   * Also write every event, one JSON object per line, to `path`. The file is opened here, synchronously, so a path
   * that cannot be written throws now (before a run starts servers) instead of as a stream 'error' later.
   */
  writeTo(path: string): void {
    this.sink = createWriteStream(path, { fd: openSync(path, 'w') });
  }

  append(event: NewHistoryEvent): HistoryEvent {
    const full = { ...event, seq: ++this.seq, atMs: this.now() } as HistoryEvent;
    this.events.push(full);
    // An event may quote an error message holding a URL with its password; the file never gets it.
    this.sink?.write(redactText(JSON.stringify(full)) + '\n');
    for (const listener of this.listeners) listener(full);
    return full;
  }

  /** Calls `listener` with every event appended from now on, synchronously (the run's progress trackers). */
  subscribe(listener: (event: HistoryEvent) => void): void {
    this.listeners.push(listener);
  }

  ofType<T extends HistoryEvent['type']>(type: T): Extract<HistoryEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<HistoryEvent, { type: T }> => e.type === type);
  }

  async close(): Promise<void> {
    const sink = this.sink;
    this.sink = undefined;
    if (sink) await new Promise<void>((resolve) => sink.end(resolve));
  }
}
