/**
 * Backoff helpers shared by every retry loop of the project: exponential growth with full
 * jitter, capped, and a sleep that an {@linkcode AbortSignal} can cut short.
 *
 * @module
 */

/** Options of {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /** Seconds of the first wait. */
  initial: number;
  /** Growth factor per attempt. */
  multiplier: number;
  /** Upper bound of one wait, seconds. */
  max?: number;
  /** Random source in [0,1), injectable for tests. */
  random?: () => number;
}

/** Longest single wait of any retry loop, in seconds. */
export const DEFAULT_MAX_BACKOFF = 60;

/**
 * Milliseconds to wait before retry number `attempt` (0-based): a random value between half and
 * all of `initial × multiplier^attempt`, capped at `max`.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./retry.ts";
 * const ms = backoffDelay(2, { initial: 1, multiplier: 2, random: () => 0.999 });
 * if (ms < 3900 || ms > 4000) throw new Error(String(ms));
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(
    options.initial * options.multiplier ** attempt,
    options.max ?? DEFAULT_MAX_BACKOFF,
  );
  const random = options.random ?? Math.random;
  return Math.round(1000 * ceiling * (0.5 + random() / 2));
}

/**
 * Resolves after `ms`, or rejects with the signal's reason when it aborts first.
 *
 * @example
 * ```ts
 * import { sleep } from "./retry.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as `signal` aborts (the work
 * itself is not stopped; its late outcome is ignored).
 *
 * @example
 * ```ts
 * import { raceSignal } from "./retry.ts";
 * const controller = new AbortController();
 * const never = new Promise<number>(() => {});
 * const raced = raceSignal(never, controller.signal);
 * controller.abort(new Error("stop"));
 * const outcome = await raced.catch((error: Error) => error.message);
 * if (outcome !== "stop") throw new Error(String(outcome));
 * if (await raceSignal(Promise.resolve(1), new AbortController().signal) !== 1) throw new Error();
 * ```
 */
export function raceSignal<T>(work: Promise<T> | T, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(work).then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}
