/**
 * Configuration: `config.yml` loading, validation and the `DEFAULT_*` constants.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./mod.ts";
 * const config = parseConfig("elasticsearch:\n  host: http://127.0.0.1:9200\n", "x.yml", { env: () => undefined });
 * if (config.elasticsearch.host !== "http://127.0.0.1:9200") throw new Error();
 * ```
 *
 * @module
 */
export * from "./config.ts";
export * from "./defaults.ts";
export * from "./locations.ts";
export * from "./service_types.ts";
export { CONFIG_KEYS, ELASTIC_ONLY_KEYS } from "./_schema.ts";
export type { FieldType, KeySpec } from "./_schema.ts";
export type { KeyPath } from "./_locate.ts";
