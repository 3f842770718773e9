/**
 * Error taxonomy: fatal, retriable, skippable.
 *
 * @example
 * ```ts
 * import { classifyError, RetriableError } from "./mod.ts";
 * if (classifyError(new RetriableError("later")) !== "retriable") throw new Error();
 * ```
 *
 * @module
 */
export * from "./errors.ts";
