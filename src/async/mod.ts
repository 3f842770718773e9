/**
 * The async helpers of the project, one home for all: waits ({@linkcode sleep},
 * {@linkcode backoffDelay}), abort handling ({@linkcode raceSignal}, {@linkcode settleWithin},
 * {@linkcode forEachItem}) and bounded concurrency ({@linkcode createLimiter}).
 *
 * @example
 * ```ts
 * import { backoffDelay, createLimiter, sleep } from "./mod.ts";
 * const limiter = createLimiter(2);
 * await limiter.spawn(() => sleep(backoffDelay(0, { initial: 0.001, multiplier: 2 })));
 * await limiter.drain();
 * ```
 *
 * @module
 */
export * from "./backoff_delay.ts";
export * from "./for_each_item.ts";
export * from "./limiter.ts";
export * from "./race_signal.ts";
export * from "./settle_within.ts";
export * from "./sleep.ts";
