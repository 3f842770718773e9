/**
 * Elasticsearch access: the configured client, retries and the preflight.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./mod.ts";
 * backoffDelay(0, { initial: 1, multiplier: 2 });
 * ```
 *
 * @module
 */
export * from "./auth.ts";
export * from "./client.ts";
export * from "./preflight.ts";
export * from "./retry.ts";
export * from "./tls.ts";
