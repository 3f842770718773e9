/**
 * The service types a config uses (`connectors[].service_type`, the older top-level
 * `service_type`, `service.service_types`) and whether `sources:` defines each. Checked before
 * the service connects anywhere; `--action list` reports the same problems as warnings.
 *
 * @module
 */
import { ConfigError } from "../errors/mod.ts";
import { editDistance, label } from "./_check.ts";
import type { KeyPath } from "./_locate.ts";
import type { Config } from "./config.ts";
import { configLocation, connectorKeyPath, serviceTypesKeyPath } from "./locations.ts";

/** One use of a service type in a config. */
export interface ServiceTypeUse {
  serviceType: string;
  /** Where it is written, e.g. `["connectors", 0, "service_type"]`. */
  path: KeyPath;
}

/**
 * Every use of a service type, in file order: connector entries, then `service.service_types`.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { serviceTypeUses } from "./service_types.ts";
 * const config = parseConfig(
 *   "connectors:\n  - connector_id: a\n    service_type: dir\nservice:\n  service_types: [s3]\n",
 *   "c.yml",
 *   { env: () => undefined },
 * );
 * const uses = serviceTypeUses(config).map((u) => u.serviceType);
 * if (uses.join() !== "dir,s3") throw new Error(uses.join());
 * ```
 */
export function serviceTypeUses(config: Config): ServiceTypeUse[] {
  const uses: ServiceTypeUse[] = [];
  config.connectors.forEach((entry, i) => {
    if (entry.service_type === undefined) return;
    uses.push({
      serviceType: entry.service_type,
      path: [...connectorKeyPath(config, i), "service_type"],
    });
  });
  for (const serviceType of config.service.service_types) {
    uses.push({ serviceType, path: serviceTypesKeyPath(config, serviceType) });
  }
  return uses;
}

/**
 * One message per service type used but not defined in `sources:` (built-ins count), each
 * naming `file:line:col`, the key path, the defined types and a close one if any.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { serviceTypeProblems } from "./service_types.ts";
 * const config = parseConfig("service:\n  service_types: [dri]\n", "c.yml", { env: () => undefined });
 * const [problem] = serviceTypeProblems(config);
 * if (!problem?.startsWith('c.yml:2:19: service.service_types[0] "dri" is not defined in sources')) {
 *   throw new Error(problem);
 * }
 * ```
 */
export function serviceTypeProblems(config: Config): string[] {
  const defined = Object.keys(config.sources).sort();
  const problems: string[] = [];
  for (const { serviceType, path } of serviceTypeUses(config)) {
    if (Object.hasOwn(config.sources, serviceType)) continue;
    const close = defined
      .map((type) => ({ type, distance: editDistance(serviceType, type) }))
      .filter(({ type, distance }) =>
        distance <= Math.max(1, Math.floor(serviceType.length / 3)) ||
        (Math.min(type.length, serviceType.length) >= 3 &&
          (type.startsWith(serviceType) || serviceType.startsWith(type)))
      )
      .sort((a, b) => a.distance - b.distance)[0];
    const hint = close ? `; did you mean "${close.type}"?` : "";
    problems.push(
      `${configLocation(config, path)}: ${label(path)} ${
        JSON.stringify(serviceType)
      } is not defined in sources (defined: ${defined.join(", ") || "none"})${hint}`,
    );
  }
  return problems;
}

/**
 * Throws a {@linkcode ConfigError} for the first service type used but not defined in
 * `sources:`.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { checkServiceTypes } from "./service_types.ts";
 * checkServiceTypes(parseConfig("service:\n  service_types: [dir]\n", "c.yml", { env: () => undefined }));
 * ```
 */
export function checkServiceTypes(config: Config): void {
  const [problem] = serviceTypeProblems(config);
  if (problem !== undefined) throw new ConfigError(problem);
}
