/**
 * Where the parts of a parsed config are written in its file, for messages that point at an
 * entry after parsing (e.g. a service type `sources:` does not define): `file:line:col`.
 *
 * @module
 */
import type { KeyPath, Locator } from "./_locate.ts";
import type { Config } from "./types.ts";

interface Locations {
  where: Locator;
  connectorPaths: KeyPath[];
  /** Index in the file's `service.service_types` of each type's first occurrence. */
  serviceTypeIndexes: Map<string, number>;
}

const LOCATIONS = new WeakMap<Config, Locations>();

/**
 * Records where the parts of a config are written (called by `parseConfig`).
 *
 * @example
 * ```ts
 * import { configLocation, rememberLocations } from "./locations.ts";
 * import { defaultConfig } from "./config.ts";
 * const config = defaultConfig();
 * rememberLocations(config, { where: () => ":1:1", connectorPaths: [], serviceTypes: [] });
 * if (configLocation(config, ["service"]) !== "<defaults>:1:1") throw new Error();
 * ```
 */
export function rememberLocations(
  config: Config,
  parts: { where: Locator; connectorPaths: KeyPath[]; serviceTypes: readonly unknown[] },
): void {
  const serviceTypeIndexes = new Map<string, number>();
  parts.serviceTypes.forEach((type, i) => {
    if (typeof type === "string" && !serviceTypeIndexes.has(type)) serviceTypeIndexes.set(type, i);
  });
  LOCATIONS.set(config, {
    where: parts.where,
    connectorPaths: parts.connectorPaths,
    serviceTypeIndexes,
  });
}

/**
 * `file:line:col` of a key path in the file a config was parsed from (just the file when the
 * path is not written there, or for a config not made by {@linkcode parseConfig}).
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { configLocation } from "./locations.ts";
 * const config = parseConfig("service:\n  service_types: [dir]\n", "c.yml", { env: () => undefined });
 * if (configLocation(config, ["service", "service_types", 0]) !== "c.yml:2:19") throw new Error();
 * ```
 */
export function configLocation(config: Config, path: KeyPath, key = false): string {
  return config.file + (LOCATIONS.get(config)?.where(path, key) ?? "");
}

/**
 * The key path a `config.connectors` entry came from: `["connectors", i]`, or `[]` for the
 * older top-level `connector_id` form.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { connectorKeyPath } from "./locations.ts";
 * const config = parseConfig("connector_id: a\n", "c.yml", { env: () => undefined });
 * if (connectorKeyPath(config, 0).length !== 0) throw new Error();
 * ```
 */
export function connectorKeyPath(config: Config, index: number): KeyPath {
  return LOCATIONS.get(config)?.connectorPaths[index] ?? ["connectors", index];
}

/**
 * The key path of a type listed in `service.service_types` (its first occurrence in the file).
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { serviceTypesKeyPath } from "./locations.ts";
 * const config = parseConfig("service.service_types: [dir, dir, s3]\n", "c.yml", { env: () => undefined });
 * if (serviceTypesKeyPath(config, "s3").join() !== "service,service_types,2") throw new Error();
 * ```
 */
export function serviceTypesKeyPath(config: Config, serviceType: string): KeyPath {
  const index = LOCATIONS.get(config)?.serviceTypeIndexes.get(serviceType) ??
    config.service.service_types.indexOf(serviceType);
  return ["service", "service_types", index];
}
