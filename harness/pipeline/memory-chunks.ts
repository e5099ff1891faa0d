// legacy-memory-chunks (PROTOCOL.md §7.3): the original held chunks in process memory. A restart loses them, and —
// routes being in memory too — chunks arriving after it find "no metadata" and are dropped. received_chunks is SET to
// the count held here (written in batches), so after a restart and a resume it starts again from 0 (I4); an image
// whose device never re-sends stays 'receiving' (I5), and one it gave up on is lost (I2).
import type { Clock, TimerHandle } from '../world/clock.ts';
import { realClock } from '../world/live/real-clock.ts';

export interface MemoryChunkDeps {
  /** received_chunks := count, for each image (one statement). */
  readonly writeCounts: (imageIds: readonly string[], counts: readonly number[]) => Promise<void>;
  readonly flushIntervalMs: number;
  readonly log: (line: string) => void;
  /** The count writer's timer runs on it. Default realClock. */
  readonly clock?: Clock;
}

interface Held {
  readonly chunks: (Uint8Array | undefined)[];
  count: number;
}

/** Bounded: the original's memory was too, and a flood must not exhaust ours. */
const IMAGES_HELD_MAX = 50_000;

export class MemoryChunkStore {
  private readonly held = new Map<string, Held>();
  private dirty = new Map<string, number>();
  private timer: TimerHandle | undefined;
  private writing: Promise<void> | undefined;
  private discarded = false;
  private readonly clock: Clock;

  constructor(private readonly deps: MemoryChunkDeps) {
    this.clock = deps.clock ?? realClock;
  }

  get busy(): boolean {
    return this.dirty.size > 0 || this.writing !== undefined;
  }

  /** Keeps a chunk; returns how many distinct chunks of the image are held now. */
  add(imageId: string, totalChunks: number, chunkId: number, payload: Uint8Array): number {
    let h = this.held.get(imageId);
    if (h === undefined) {
      if (this.held.size >= IMAGES_HELD_MAX) {
        const oldest = this.held.keys().next().value;
        if (oldest !== undefined) this.held.delete(oldest);
      }
      h = { chunks: new Array<Uint8Array | undefined>(totalChunks), count: 0 };
      this.held.set(imageId, h);
    }
    if (h.chunks[chunkId] === undefined) {
      h.chunks[chunkId] = payload;
      h.count++;
      this.dirty.set(imageId, h.count);
      this.schedule();
    }
    return h.count;
  }

  count(imageId: string): number {
    return this.held.get(imageId)?.count ?? 0;
  }

  chunksOf(imageId: string): readonly (Uint8Array | undefined)[] | undefined {
    return this.held.get(imageId)?.chunks;
  }

  /** The held chunk ids of each image (what the missing-chunks sweeper compares against). */
  storedChunkIds(imageIds: readonly string[]): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const id of imageIds) {
      const h = this.held.get(id);
      if (h === undefined) continue;
      const ids: number[] = [];
      h.chunks.forEach((c, i) => {
        if (c !== undefined) ids.push(i);
      });
      out.set(id, ids);
    }
    return out;
  }

  /** The image is stored complete: its chunks are no longer needed. */
  release(imageId: string): void {
    this.held.delete(imageId);
    this.dirty.delete(imageId);
  }

  /** Writes pending counts now; resolves when nothing is pending. */
  async drain(): Promise<void> {
    while (this.busy && !this.discarded) {
      if (this.timer !== undefined) {
        this.clock.clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.kick();
      if (this.writing !== undefined) await this.writing;
    }
  }

  /** A crash: everything held is gone. */
  discard(): void {
    this.discarded = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
    this.dirty.clear();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.writing !== undefined || this.discarded) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, this.deps.flushIntervalMs);
  }

  private kick(): void {
    if (this.writing !== undefined || this.dirty.size === 0 || this.discarded) return;
    const batch = this.dirty;
    this.dirty = new Map();
    this.writing = this.deps
      .writeCounts([...batch.keys()], [...batch.values()])
      .catch((error: unknown) => {
        // Counts are advisory here (the chunks are in memory): the next change writes a newer count anyway.
        this.deps.log(
          `pipeline: writing received_chunks of ${batch.size} images failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => {
        this.writing = undefined;
        if (this.dirty.size > 0) this.schedule();
      });
  }
}
