/**
 * {@linkcode ErrorBudget}: how many loop-level failures a service loop tolerates
 * (`service.max_errors` within `service.max_errors_span` seconds, spec §4.6) before the
 * process gives up.
 *
 * @module
 */
import { errorMessage, FatalError } from "../errors/mod.ts";

/**
 * Counts failures; throws a {@linkcode FatalError} when more than `maxErrors` happened since
 * the first counted one, unless `spanSeconds` have passed since it (then counting restarts).
 *
 * @example
 * ```ts
 * import { ErrorBudget } from "./error_budget.ts";
 * const budget = new ErrorBudget("demo", 2, 600);
 * budget.record(new Error("a"));
 * budget.record(new Error("b"));
 * try {
 *   budget.record(new Error("c"));
 *   throw new Error("expected the budget to be exceeded");
 * } catch (error) {
 *   if (!(error as Error).message.includes("3 errors")) throw error;
 * }
 * ```
 */
export class ErrorBudget {
  readonly #name: string;
  readonly #maxErrors: number;
  readonly #spanMs: number;
  readonly #now: () => number;
  #count = 0;
  #since = 0;

  constructor(name: string, maxErrors: number, spanSeconds: number, now: () => number = Date.now) {
    this.#name = name;
    this.#maxErrors = maxErrors;
    this.#spanMs = spanSeconds * 1000;
    this.#now = now;
  }

  /** Failures counted in the current span. */
  get count(): number {
    return this.#count;
  }

  /** Counts one failure; throws when the budget is exceeded. */
  record(error: unknown): void {
    const now = this.#now();
    if (this.#count === 0 || now - this.#since > this.#spanMs) {
      this.#count = 0;
      this.#since = now;
    }
    this.#count++;
    if (this.#count > this.#maxErrors) {
      throw new FatalError(
        `The ${this.#name} loop had ${this.#count} errors within ${
          Math.round((now - this.#since) / 1000)
        }s (service.max_errors is ${this.#maxErrors} per service.max_errors_span of ${
          this.#spanMs / 1000
        }s); last error: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}
