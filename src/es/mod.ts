/**
 * Elasticsearch access: the configured client (with its retries), credentials and the preflight.
 * The backoff and sleep of the retry loops live in `src/async/`.
 *
 * @example
 * ```ts
 * import { decodeApiKey } from "./mod.ts";
 * if (decodeApiKey(btoa("abc:def"))?.id !== "abc") throw new Error();
 * ```
 *
 * @module
 */
export * from "./auth.ts";
export * from "./client.ts";
export * from "./preflight.ts";
export * from "./tls.ts";
