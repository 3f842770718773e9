/**
 * The one bounded-concurrency helper of the project: at most `n` tasks run at once, callers wait
 * for a free slot (which is how backpressure travels upstream), and a background task's failure
 * is not lost but rethrown by the next {@linkcode Limiter.spawn} or {@linkcode Limiter.drain}.
 *
 * @module
 */

/** Runs async tasks with at most `concurrency` of them in flight. */
export interface Limiter {
  /** Maximum tasks in flight. */
  readonly concurrency: number;
  /** Tasks running now. */
  readonly active: number;
  /** Waits for a slot, runs `task`, resolves with its result (failures go to the caller). */
  run<T>(task: () => Promise<T>): Promise<T>;
  /**
   * Waits for a slot and starts `task` in the background; resolves as soon as it started. A
   * failure of a background task is rethrown by the next `spawn` or `drain` call.
   */
  spawn(task: () => Promise<void>): Promise<void>;
  /** Resolves when every started task has settled; throws the first background failure. */
  drain(): Promise<void>;
  /** The first background failure, if any. */
  readonly failure: unknown;
}

/**
 * Creates a {@linkcode Limiter} allowing `n` tasks at once (`n` ≥ 1). A `signal` makes slot
 * waits reject with its reason when it aborts.
 *
 * @example
 * ```ts
 * import { createLimiter } from "./limiter.ts";
 * const limiter = createLimiter(2);
 * let running = 0, peak = 0;
 * const task = async () => {
 *   peak = Math.max(peak, ++running);
 *   await new Promise((r) => setTimeout(r, 5));
 *   running--;
 * };
 * for (let i = 0; i < 6; i++) await limiter.spawn(task);
 * await limiter.drain();
 * if (peak !== 2) throw new Error(`peak ${peak}`);
 * if (await limiter.run(async () => 42) !== 42) throw new Error();
 * ```
 */
export function createLimiter(n: number, signal?: AbortSignal): Limiter {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`A limiter needs a concurrency of 1 or more, got ${n}`);
  }
  let active = 0;
  let failed = false;
  let failure: unknown;
  const waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let idle: { promise: Promise<void>; resolve: () => void } | undefined;

  const onAbort = () => {
    for (const waiter of waiters.splice(0)) waiter.reject(signal?.reason);
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  const acquire = (): Promise<void> | undefined => {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (active < n) {
      active++;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      waiters.push({
        resolve: () => {
          active++;
          resolve();
        },
        reject,
      });
    });
  };
  const release = () => {
    active--;
    const next = waiters.shift();
    if (next) next.resolve();
    else if (active === 0 && idle) {
      idle.resolve();
      idle = undefined;
    }
  };
  const rethrow = () => {
    if (failed) throw failure;
  };

  return {
    concurrency: n,
    get active() {
      return active;
    },
    get failure() {
      return failure;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      const wait = acquire();
      if (wait) await wait;
      try {
        return await task();
      } finally {
        release();
      }
    },
    async spawn(task: () => Promise<void>): Promise<void> {
      rethrow();
      const wait = acquire();
      if (wait) await wait;
      if (failed) {
        release();
        throw failure;
      }
      let running: Promise<void>;
      try {
        running = task();
      } catch (error) {
        running = Promise.reject(error);
      }
      running.catch((error) => {
        if (!failed) {
          failed = true;
          failure = error;
        }
      }).finally(release);
    },
    async drain(): Promise<void> {
      while (active > 0 || waiters.length > 0) {
        if (!idle) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          idle = { promise, resolve };
        }
        await idle.promise;
      }
      rethrow();
    },
  };
}
