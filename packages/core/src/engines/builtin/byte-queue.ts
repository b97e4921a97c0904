/**
 * A queue between the source FETCH and the destination APPEND, bounded by bytes rather than by
 * count: message sizes range from 1 KB to many MB, and the bound is what keeps the engine's
 * memory flat however large the mailbox is. A single item larger than the bound is still let in
 * when the queue is empty, or the pipeline would deadlock on it.
 */
export class ByteBoundedQueue<T> {
  private readonly items: { item: T; bytes: number }[] = [];
  private bytes = 0;
  private closed = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly maxBytes: number) {}

  /** Resolves once the item is queued; waits while the queue is full. Returns false once closed. */
  async put(item: T, bytes: number): Promise<boolean> {
    while (!this.closed && this.items.length > 0 && this.bytes + bytes > this.maxBytes) {
      await new Promise<void>((resolve) => {
        this.wakeProducer = resolve;
      });
    }
    if (this.closed) {
      return false;
    }
    this.items.push({ item, bytes });
    this.bytes += bytes;
    this.notifyConsumer();
    return true;
  }

  /**
   * Takes what is queued, up to maxCount items and about maxBytes (at least one item), waiting
   * for the first one. Resolves to an empty array when the queue is closed and drained.
   */
  async takeBatch(maxCount: number, maxBytes: number): Promise<T[]> {
    while (this.items.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        this.wakeConsumer = resolve;
      });
    }
    const batch: T[] = [];
    let batchBytes = 0;
    while (this.items.length > 0 && batch.length < maxCount) {
      const next = this.items[0];
      if (!next || (batch.length > 0 && batchBytes + next.bytes > maxBytes)) {
        break;
      }
      this.items.shift();
      batch.push(next.item);
      batchBytes += next.bytes;
      this.bytes -= next.bytes;
    }
    this.notifyProducer();
    return batch;
  }

  /** No more items will come: the consumer drains what is left, a waiting producer is released. */
  close(): void {
    this.closed = true;
    this.notifyConsumer();
    this.notifyProducer();
  }

  /** Drops everything queued (used when the run is stopped). */
  clear(): void {
    this.items.length = 0;
    this.bytes = 0;
    this.notifyProducer();
  }

  private notifyConsumer(): void {
    const wake = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wake?.();
  }

  private notifyProducer(): void {
    const wake = this.wakeProducer;
    this.wakeProducer = undefined;
    wake?.();
  }
}
