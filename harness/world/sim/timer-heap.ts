// The virtual clock's pending timers: a binary min-heap ordered by (dueMs, seq), so the earliest timer comes first
// and timers due at the same instant come out in the order they were armed (seq grows with every arming). Each
// entry knows its place in the heap, so a cleared timer is taken out at once (O(log n)) instead of lingering as a
// tombstone: code that re-arms a timer on every message (the chunk batcher) must not grow the heap without bound.

export interface HeapEntry {
  readonly dueMs: number;
  readonly seq: number;
  /** Position in the heap array; -1 when not in the heap. */
  index: number;
}

function before(a: HeapEntry, b: HeapEntry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
}

export class TimerHeap<E extends HeapEntry> {
  private readonly items: E[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): E | undefined {
    return this.items[0];
  }

  push(entry: E): void {
    entry.index = this.items.length;
    this.items.push(entry);
    this.up(entry.index);
  }

  /** Takes out the earliest entry. */
  pop(): E | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Takes `entry` out wherever it is; an entry not in this heap is left alone. */
  remove(entry: E): void {
    const i = entry.index;
    if (i < 0 || this.items[i] !== entry) return;
    const last = this.items.pop() as E;
    entry.index = -1;
    if (last === entry) return;
    this.items[i] = last;
    last.index = i;
    // The moved entry may belong above or below its new place.
    this.up(i);
    this.down(last.index);
  }

  private up(i: number): void {
    const entry = this.items[i] as E;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = this.items[parentIndex] as E;
      if (!before(entry, parent)) break;
      this.place(parent, i);
      i = parentIndex;
    }
    this.place(entry, i);
  }

  private down(i: number): void {
    const n = this.items.length;
    const entry = this.items[i] as E;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = this.items[left] as E;
      if (right < n && before(this.items[right] as E, child)) child = this.items[right] as E;
      if (!before(child, entry)) break;
      const childIndex = child.index;
      this.place(child, i);
      i = childIndex;
    }
    this.place(entry, i);
  }

  private place(entry: E, i: number): void {
    this.items[i] = entry;
    entry.index = i;
  }
}
