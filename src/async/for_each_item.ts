/**
 * Draining an iterable (sync or async) into a callback, abortable even mid-`next()`.
 *
 * @module
 */

/**
 * Pulls every item of `iterable` into `onItem` (awaiting it only when it returns a promise),
 * giving up promptly when `signal` aborts, even while the source is stuck in `next()`. An
 * unfinished source is closed without waiting (closing a running generator queues behind it).
 *
 * @example
 * ```ts
 * import { forEachItem } from "./for_each_item.ts";
 * const seen: number[] = [];
 * await forEachItem([1, 2, 3], new AbortController().signal, (n) => {
 *   seen.push(n);
 *   return undefined;
 * });
 * if (seen.join() !== "1,2,3") throw new Error(seen.join());
 * ```
 */
export async function forEachItem<T>(
  iterable: AsyncIterable<T> | Iterable<T>,
  signal: AbortSignal,
  onItem: (item: T) => Promise<void> | undefined,
): Promise<void> {
  const iterator: AsyncIterator<T> | Iterator<T> = Symbol.asyncIterator in iterable
    ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (iterable as Iterable<T>)[Symbol.iterator]();
  let rejectPending: ((reason: unknown) => void) | undefined;
  const onAbort = () => rejectPending?.(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  let finished = false;
  try {
    for (;;) {
      signal.throwIfAborted();
      const next = iterator.next();
      const step = next instanceof Promise
        ? await new Promise<IteratorResult<T>>((resolve, reject) => {
          rejectPending = reject;
          next.then(resolve, reject);
        })
        : next;
      rejectPending = undefined;
      if (step.done) {
        finished = true;
        return;
      }
      const wait = onItem(step.value);
      if (wait) await wait;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (!finished) Promise.resolve(iterator.return?.()).catch(() => {});
  }
}
