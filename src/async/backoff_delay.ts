/**
 * Exponential backoff with full jitter, capped: the waits of every retry loop of the project.
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
 * import { backoffDelay } from "./backoff_delay.ts";
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
