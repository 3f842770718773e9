/**
 * The per-item error budget of a sync (spec §5.4, Elastic 9.2+): too many failures in total, in a
 * row, or as a rate over the last operations fail the job, naming the documents that failed.
 *
 * @module
 */
import type { ErrorMonitorConfig } from "../config/mod.ts";
import { FatalError } from "../errors/mod.ts";

/**
 * Thrown when a sync exceeds its error budget.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TooManyErrorsError } from "./error_monitor.ts";
 * const error = new TooManyErrorsError(
 *   "Exceeded maximum total error count - saw 101 errors. First failing documents: a, b",
 * );
 * assert.equal(error.name, "TooManyErrorsError");
 * assert.equal(error.kind, "fatal");
 * ```
 */
export class TooManyErrorsError extends FatalError {}

/**
 * Tracks per-item successes and failures; {@linkcode ErrorMonitor.trackError} throws
 * {@linkcode TooManyErrorsError} when a threshold is crossed (unless disabled: then it only
 * counts).
 *
 * @example
 * ```ts
 * import { ErrorMonitor, TooManyErrorsError } from "./error_monitor.ts";
 * const monitor = new ErrorMonitor({
 *   enabled: true, max_total_errors: 100, max_consecutive_errors: 2, max_error_rate: 1,
 *   error_window_size: 10, error_queue_size: 5,
 * });
 * monitor.trackError("a", "mapping conflict");
 * monitor.trackSuccess();
 * monitor.trackError("b", "mapping conflict");
 * monitor.trackError("c", "mapping conflict");
 * try {
 *   monitor.trackError("d", "mapping conflict");
 *   throw new Error("not thrown");
 * } catch (e) {
 *   if (!(e instanceof TooManyErrorsError) || !e.message.includes("a, b, c, d")) throw e;
 * }
 * ```
 */
export class ErrorMonitor {
  /** Failures so far. */
  totalErrors = 0;
  /** Successes so far. */
  totalSuccesses = 0;
  /** Failures since the last success. */
  consecutiveErrors = 0;
  readonly #config: ErrorMonitorConfig;
  readonly #window: Uint8Array;
  #windowAt = 0;
  #windowErrors = 0;
  readonly #firstIds: string[] = [];
  #lastError = "";

  constructor(config: ErrorMonitorConfig) {
    this.#config = config;
    this.#window = new Uint8Array(Math.max(0, config.error_window_size));
  }

  /** The first failing document ids (at most `error_queue_size`). */
  get firstFailedIds(): readonly string[] {
    return this.#firstIds;
  }

  #slide(error: boolean): void {
    if (this.#window.length === 0) return;
    this.#windowErrors += (error ? 1 : 0) - this.#window[this.#windowAt]!;
    this.#window[this.#windowAt] = error ? 1 : 0;
    this.#windowAt = (this.#windowAt + 1) % this.#window.length;
  }

  /** Records a successful operation. */
  trackSuccess(): void {
    this.totalSuccesses++;
    this.consecutiveErrors = 0;
    this.#slide(false);
  }

  /** Records a failed operation on document `id`; throws when the budget is exceeded. */
  trackError(id: string, message: string): void {
    this.totalErrors++;
    this.consecutiveErrors++;
    this.#slide(true);
    if (this.#firstIds.length < Math.max(1, this.#config.error_queue_size)) this.#firstIds.push(id);
    this.#lastError = message;
    this.#raiseIfNecessary();
  }

  #raiseIfNecessary(): void {
    const c = this.#config;
    if (!c.enabled) return;
    let reason: string | undefined;
    if (this.consecutiveErrors > c.max_consecutive_errors) {
      reason =
        `Exceeded maximum consecutive errors - saw ${this.consecutiveErrors} errors in a row`;
    } else if (this.totalErrors > c.max_total_errors) {
      reason = `Exceeded maximum total error count - saw ${this.totalErrors} errors`;
    } else if (
      this.#window.length > 0 && this.#windowErrors / this.#window.length > c.max_error_rate
    ) {
      reason =
        `Exceeded maximum error ratio of ${c.max_error_rate} for last ${this.#window.length} operations`;
    }
    if (reason === undefined) return;
    throw new TooManyErrorsError(
      `${reason}. First failing documents: ${
        this.#firstIds.join(", ")
      }. Last error: ${this.#lastError}`,
    );
  }
}
