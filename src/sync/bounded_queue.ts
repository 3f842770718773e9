/**
 * The queue between the extractor (producer) and the bulk sink (consumer), bounded by item count
 * and by bytes, so that a slow cluster slows the source instead of growing memory.
 *
 * @module
 */
import { FatalError } from "../errors/mod.ts";

/** Returned by {@linkcode BoundedQueue.take} once the queue is closed and empty. */
export const QUEUE_END: unique symbol = Symbol("queue end");
/** Returned by {@linkcode BoundedQueue.take} when its wait timed out. */
export const QUEUE_TIMEOUT: unique symbol = Symbol("queue timeout");

/**
 * Thrown when a producer waited longer than `queue_refresh_timeout` for space.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ElasticsearchOverloadedError } from "./bounded_queue.ts";
 * const error = new ElasticsearchOverloadedError(
 *   "Elasticsearch overloaded: the bulk queue stayed full for 60s",
 * );
 * assert.equal(error.name, "ElasticsearchOverloadedError");
 * assert.equal(error.kind, "fatal");
 * ```
 */
export class ElasticsearchOverloadedError extends FatalError {}

/** Limits of a {@linkcode BoundedQueue}. */
export interface BoundedQueueOptions {
  /** Items held at most. */
  maxItems: number;
  /** Bytes held at most (one item larger than this is still accepted into an empty queue). */
  maxBytes: number;
  /** Milliseconds a producer may wait for space before {@linkcode ElasticsearchOverloadedError}. */
  putTimeoutMs?: number;
  /** Aborting rejects every wait with the signal's reason. */
  signal?: AbortSignal;
}

interface Putter {
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A FIFO queue for one consumer and any number of producers.
 *
 * @example
 * ```ts
 * import { BoundedQueue, QUEUE_END } from "./bounded_queue.ts";
 * const queue = new BoundedQueue<string>({ maxItems: 2, maxBytes: 100 });
 * await queue.put("a", 1);
 * await queue.put("b", 1);
 * const third = queue.put("c", 1); // waits: the queue holds 2 items
 * if (await queue.take() !== "a") throw new Error();
 * await third;
 * queue.close();
 * const rest = [await queue.take(), await queue.take(), await queue.take()];
 * if (rest[0] !== "b" || rest[1] !== "c" || rest[2] !== QUEUE_END) throw new Error();
 * ```
 */
export class BoundedQueue<T> {
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  #closed = false;
  #error: { value: unknown } | undefined;
  #putters: Putter[] = [];
  #taker: ((value: T | typeof QUEUE_END | typeof QUEUE_TIMEOUT) => void) | undefined;
  #takerReject: ((error: unknown) => void) | undefined;
  readonly #options: BoundedQueueOptions;

  constructor(options: BoundedQueueOptions) {
    this.#options = options;
    options.signal?.addEventListener("abort", () => this.fail(options.signal?.reason), {
      once: true,
    });
  }

  /** Items held now. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  #fits(bytes: number): boolean {
    if (this.length >= this.#options.maxItems) return false;
    return this.#bytes === 0 || this.#bytes + bytes <= this.#options.maxBytes;
  }

  #check(): void {
    if (this.#error) throw this.#error.value;
    if (this.#closed) throw new Error("Cannot add to a closed queue");
  }

  #push(item: T, bytes: number): void {
    if (this.#taker) {
      const taker = this.#taker;
      this.#taker = undefined;
      this.#takerReject = undefined;
      taker(item);
      return;
    }
    this.#items.push(item);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
  }

  /** Adds `item` when there is room now; false when the caller must `put` (and wait). */
  tryPut(item: T, bytes: number): boolean {
    this.#check();
    if (this.#putters.length > 0 || !this.#fits(bytes)) return false;
    this.#push(item, bytes);
    return true;
  }

  /** Adds `item`, waiting for room (FIFO among waiting producers). */
  async put(item: T, bytes: number): Promise<void> {
    if (this.tryPut(item, bytes)) return;
    await new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const putter: Putter = {
        bytes,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timeout = this.#options.putTimeoutMs;
      if (timeout !== undefined && timeout > 0) {
        timer = setTimeout(() => {
          const at = this.#putters.indexOf(putter);
          if (at >= 0) this.#putters.splice(at, 1);
          reject(
            new ElasticsearchOverloadedError(
              `Elasticsearch overloaded: the bulk queue stayed full for ${
                Math.round(timeout / 1000)
              }s (elasticsearch.bulk.queue_refresh_timeout)`,
            ),
          );
        }, timeout);
      }
      this.#putters.push(putter);
    });
    this.#check();
    this.#push(item, bytes);
  }

  #wakePutters(): void {
    while (this.#putters.length > 0) {
      const next = this.#putters[0]!;
      if (!this.#fits(next.bytes)) return;
      this.#putters.shift();
      // The woken producer pushes on resume; reserve nothing, the next check sees its item.
      next.resolve();
      return;
    }
  }

  /** Removes and returns the next item if one is there, else undefined (never waits). */
  takeNow(): T | undefined {
    if (this.#error) throw this.#error.value;
    if (this.length === 0) return undefined;
    const item = this.#items[this.#head]!;
    const size = this.#sizes[this.#head]!;
    this.#items[this.#head] = undefined as T;
    this.#head++;
    this.#bytes -= size;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    this.#wakePutters();
    return item;
  }

  /**
   * The next item; waits while the queue is empty. Returns {@linkcode QUEUE_END} once closed and
   * empty, {@linkcode QUEUE_TIMEOUT} when `timeoutMs` passed without an item.
   */
  take(timeoutMs?: number): Promise<T | typeof QUEUE_END | typeof QUEUE_TIMEOUT> {
    const item = this.takeNow();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#closed) return Promise.resolve(QUEUE_END);
    if (this.#taker) return Promise.reject(new Error("BoundedQueue supports a single consumer"));
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.#taker = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
      this.#takerReject = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#taker = undefined;
          this.#takerReject = undefined;
          resolve(QUEUE_TIMEOUT);
        }, timeoutMs);
      }
      // A producer may be waiting on an empty queue only when its item is larger than maxBytes.
      this.#wakePutters();
    });
  }

  /** Wakes a waiting consumer with {@linkcode QUEUE_TIMEOUT} (e.g. a batch grew old). */
  interrupt(): void {
    if (!this.#taker) return;
    const taker = this.#taker;
    this.#taker = undefined;
    this.#takerReject = undefined;
    taker(QUEUE_TIMEOUT);
  }

  /** No more items will come; the consumer drains what is left, then sees {@linkcode QUEUE_END}. */
  close(): void {
    this.#closed = true;
    if (this.#taker && this.length === 0) {
      const taker = this.#taker;
      this.#taker = undefined;
      this.#takerReject = undefined;
      taker(QUEUE_END);
    }
  }

  /** Fails every current and future producer and consumer wait with `error`. */
  fail(error: unknown): void {
    if (this.#error) return;
    this.#error = { value: error };
    for (const putter of this.#putters.splice(0)) putter.reject(error);
    if (this.#takerReject) {
      const reject = this.#takerReject;
      this.#taker = undefined;
      this.#takerReject = undefined;
      reject(error);
    }
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
