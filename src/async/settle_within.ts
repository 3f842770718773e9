/**
 * Waiting for work to settle, with a grace period once a signal aborts.
 *
 * @module
 */

/**
 * Awaits `work`; once `signal` aborts, waits at most `graceMs` more for it to settle, then
 * rejects with the signal's reason (the work is left to finish in the background); `onLate` runs
 * just before that rejection.
 *
 * @example
 * ```ts
 * import { settleWithin } from "./settle_within.ts";
 * const controller = new AbortController();
 * controller.abort(new Error("stop"));
 * if (await settleWithin(Promise.resolve(1), controller.signal, 50, () => {}) !== 1) throw new Error();
 * let late = false;
 * const outcome = await settleWithin(new Promise(() => {}), controller.signal, 1, () => late = true)
 *   .catch((error: Error) => error.message);
 * if (outcome !== "stop" || !late) throw new Error(String(outcome));
 * ```
 */
export function settleWithin<T>(
  work: Promise<T>,
  signal: AbortSignal,
  graceMs: number,
  onLate: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      timer = setTimeout(() => {
        onLate();
        reject(signal.reason);
      }, graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    });
  });
}
