/**
 * A buffer between the event hub (which pushes synchronously) and one subscription's async generator
 * (which pulls at the client's pace). Bounded: a subscriber that falls too far behind loses the
 * buffered events and is told so (`overflowed`), and resynchronises from the database instead of
 * growing the server's memory without limit.
 */
export class EventQueue<T> {
  readonly #max: number;
  #items: T[] = [];
  #overflowed = false;
  #wake: (() => void) | null = null;

  constructor(max = 1000) {
    this.#max = max;
  }

  push(item: T): void {
    if (this.#items.length >= this.#max) {
      this.#items = [];
      this.#overflowed = true;
    } else {
      this.#items.push(item);
    }
    this.#notify();
  }

  /** Takes the next buffered item, if any, without waiting (undefined after an overflow too). */
  shiftAvailable(): T | undefined {
    return this.#overflowed ? undefined : this.#items.shift();
  }

  /** Looks at the next buffered item without taking it. */
  peek(): T | undefined {
    return this.#overflowed ? undefined : this.#items[0];
  }

  /** Wakes a pending `next()` (e.g. on abort) without an item. */
  interrupt(): void {
    this.#notify();
  }

  /**
   * The next item, `{ overflowed: true }` once after items were dropped, or null when `signal` aborts.
   */
  async next(signal: AbortSignal | undefined): Promise<{ item: T } | { overflowed: true } | null> {
    for (;;) {
      if (signal?.aborted) return null;
      if (this.#overflowed) {
        this.#overflowed = false;
        return { overflowed: true };
      }
      const item = this.#items.shift();
      if (item !== undefined) return { item };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
