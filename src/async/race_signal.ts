/**
 * Racing a promise against an {@linkcode AbortSignal}.
 *
 * @module
 */

/**
 * Settles like `work`, or rejects with the signal's reason as soon as `signal` aborts (the work
 * itself is not stopped; its late outcome is ignored).
 *
 * @example
 * ```ts
 * import { raceSignal } from "./race_signal.ts";
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
