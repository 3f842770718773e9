/**
 * {@linkcode DeniedBackoff}: what a service loop does when Elasticsearch refuses the service's
 * credentials (401) or a write (403 on the system indices, e.g. read-only credentials): it says
 * so once, with Elasticsearch's reason and the credential used, then waits longer and longer
 * (doubling up to {@linkcode DEFAULT_DENIED_MAX_BACKOFF_SECONDS}) instead of repeating the same
 * refused write every round. The same reason is logged again only every
 * {@linkcode DEFAULT_DENIED_REMINDER_SECONDS}; other repeats go to the debug log. A round that
 * gets through ends it. Denied rounds are not counted against the error budget: nothing is
 * broken in the service, and it resumes as soon as the privileges are granted.
 *
 * @module
 */
import { backoffDelay } from "../async/mod.ts";
import { describeAuthFailure } from "../es/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Longest wait between two rounds of a loop whose requests are denied, in seconds. */
export const DEFAULT_DENIED_MAX_BACKOFF_SECONDS = 300;
/** Seconds between two log lines about the same denial (repeats in between are debug lines). */
export const DEFAULT_DENIED_REMINDER_SECONDS = 600;

/** Options of {@linkcode DeniedBackoff}. */
export interface DeniedBackoffOptions {
  /** Name of the loop, for messages (`scheduling`). */
  loop: string;
  /** Seconds of the first wait (the loop's own interval). */
  initial: number;
  /** Cap of one wait, seconds; default {@linkcode DEFAULT_DENIED_MAX_BACKOFF_SECONDS}. */
  max?: number;
  /** Seconds between repeated lines; default {@linkcode DEFAULT_DENIED_REMINDER_SECONDS}. */
  reminder?: number;
  /** The credential the loop uses, named without its secret. */
  credentials: string;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** Random source of the jitter, injectable for tests. */
  random?: () => number;
}

/**
 * Backoff state of one loop.
 *
 * @example
 * ```ts
 * import { DeniedBackoff } from "./denied_backoff.ts";
 * const lines: string[] = [];
 * const logger = { error: (m: string) => lines.push(m), debug: () => {}, info: (m: string) => lines.push(m) };
 * const backoff = new DeniedBackoff(logger as never, {
 *   loop: "scheduling", initial: 1, credentials: "user reader (elasticsearch.username)", random: () => 1,
 * });
 * const denied = { meta: { statusCode: 403, body: { error: { reason: "action [indices:data/write/update] is unauthorized" } } } };
 * const waits = [backoff.denied(denied), backoff.denied(denied), backoff.denied(denied)];
 * if (waits.join() !== "1000,2000,4000") throw new Error(waits.join());
 * if (lines.length !== 1 || !lines[0]!.includes("indices:data/write/update")) throw new Error(lines.join("\n"));
 * backoff.allowed();
 * if ((lines as string[]).length !== 2 || backoff.denying) throw new Error();
 * ```
 */
export class DeniedBackoff {
  readonly #logger: Pick<Logger, "error" | "debug" | "info">;
  readonly #options: DeniedBackoffOptions;
  #attempt = 0;
  #since = 0;
  #logged: { text: string; at: number } | undefined;

  constructor(logger: Pick<Logger, "error" | "debug" | "info">, options: DeniedBackoffOptions) {
    this.#logger = logger;
    this.#options = options;
  }

  /** True while the loop's rounds are denied. */
  get denying(): boolean {
    return this.#attempt > 0;
  }

  /** Records a denied round; returns the milliseconds to wait before the next one. */
  denied(error: unknown): number {
    const now = (this.#options.now ?? Date.now)();
    const { loop, initial, credentials } = this.#options;
    const max = this.#options.max ?? DEFAULT_DENIED_MAX_BACKOFF_SECONDS;
    if (this.#attempt === 0) this.#since = now;
    const wait = backoffDelay(this.#attempt++, {
      initial: Math.max(initial, 0.1),
      multiplier: 2,
      max,
      ...(this.#options.random ? { random: this.#options.random } : {}),
    });
    const text = describeAuthFailure(error, credentials);
    const reminder = (this.#options.reminder ?? DEFAULT_DENIED_REMINDER_SECONDS) * 1000;
    const line = `The ${loop} loop cannot go on: ${text}; nothing is written until the ${
      text.includes("HTTP 401") ? "credentials are fixed" : "privileges are granted"
    }; next attempt in ${
      (wait / 1000).toFixed(1)
    }s, then less and less often (at most every ${max}s)`;
    const logged = this.#logged;
    if (!logged || logged.text !== text || now - logged.at >= reminder) {
      this.#logged = { text, at: now };
      this.#logger.error(line);
    } else {
      this.#logger.debug(line);
    }
    return wait;
  }

  /** Records a round that got through: ends the denial (one line when there was one). */
  allowed(): void {
    if (this.#attempt === 0) return;
    const seconds = (((this.#options.now ?? Date.now)() - this.#since) / 1000).toFixed(0);
    this.#logger.info(
      `The ${this.#options.loop} loop is allowed again after ${seconds}s of refused requests; resuming`,
    );
    this.#attempt = 0;
    this.#logged = undefined;
  }
}
