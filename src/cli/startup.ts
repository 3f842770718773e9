/**
 * The checks of a service action (`poll`, `schedule`, `sync_content`, `sync_access_control`,
 * `cleanup`) before it connects anywhere: every service type the config uses is defined in
 * `sources:`, and every non-built-in source such a type uses loads (module imported, class
 * found and checked). Built-in sources stay lazily loaded.
 *
 * @module
 */
import { dirname } from "node:path";
import { checkServiceTypes, configLocation, serviceTypeUses } from "../config/mod.ts";
import type { Config } from "../config/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { SourceLoadError, SourceRegistry } from "../source/mod.ts";

/**
 * The non-built-in service types the config uses, each once, in file order.
 *
 * @example
 * ```ts
 * import { parseConfig } from "../config/mod.ts";
 * import { customSourcesInUse } from "./startup.ts";
 * const config = parseConfig(
 *   "sources:\n  mine: ./mine.ts:Mine\nservice:\n  service_types: [dir, mine]\n",
 *   "/etc/c.yml",
 *   { env: () => undefined },
 * );
 * if (customSourcesInUse(config).join() !== "mine") throw new Error();
 * ```
 */
export function customSourcesInUse(config: Config): string[] {
  const registry = new SourceRegistry(config.sources, { baseDir: dirname(config.file) });
  const types = serviceTypeUses(config).map((use) => use.serviceType);
  return [...new Set(types)].filter((type) => registry.fqn(type) && !registry.isBuiltin(type));
}

/**
 * Throws a {@linkcode ConfigError} (exit 1) for the first service type used but not defined
 * in `sources:`, or the first non-built-in source in use that does not load; the message names
 * `file:line:col` of that entry and what is wrong.
 *
 * @example
 * ```ts
 * import { parseConfig } from "../config/mod.ts";
 * import { checkServiceStartup } from "./startup.ts";
 * const config = parseConfig(
 *   "sources:\n  mine: ./nowhere.ts:Mine\nconnectors:\n  - connector_id: a\n    service_type: mine\n",
 *   "/nonexistent/c.yml",
 *   { env: () => undefined },
 * );
 * const error = await checkServiceStartup(config).then(() => undefined, (e: Error) => e);
 * if (!error?.message.startsWith("/nonexistent/c.yml:2:9: sources.mine: Cannot load source")) {
 *   throw new Error(String(error));
 * }
 * ```
 */
export async function checkServiceStartup(
  config: Config,
  options: { logger?: Logger } = {},
): Promise<void> {
  checkServiceTypes(config);
  const registry = new SourceRegistry(config.sources, {
    baseDir: dirname(config.file),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  for (const type of customSourcesInUse(config)) {
    try {
      await registry.load(type);
    } catch (error) {
      if (!(error instanceof SourceLoadError)) throw error;
      throw new ConfigError(
        `${configLocation(config, ["sources", type])}: sources.${type}: ${error.message}`,
        { cause: error },
      );
    }
  }
}
