/**
 * `--action config --service-type TYPE`: prints the default configuration schema of a source
 * (the field objects the service writes into a new connector, spec §2.1) as pretty JSON. Needs
 * no Elasticsearch.
 *
 * @module
 */
import { dirname } from "node:path";
import { FatalError } from "../errors/mod.ts";
import { defaultConfigurationSchema, SourceRegistry } from "../source/mod.ts";
import type { CliContext } from "./context.ts";

/**
 * Prints the schema of `options.serviceType`; exits 0, or throws a {@linkcode FatalError}
 * (exit 1) naming an unknown service type and the configured ones.
 *
 * @example
 * ```ts ignore
 * import { configAction } from "./config.ts";
 * await configAction(context); // context.options.serviceType === "dir"
 * ```
 */
export async function configAction(
  { config, options, print, logger }: CliContext,
): Promise<number> {
  const serviceType = options.serviceType ?? "";
  const registry = new SourceRegistry(config.sources, { baseDir: dirname(config.file), logger });
  if (registry.fqn(serviceType) === undefined) {
    throw new FatalError(
      `Unknown service type ${JSON.stringify(serviceType)}: the configured service types are ${
        registry.serviceTypes().join(", ") || "none"
      } (add it under "sources:" in ${config.file})`,
    );
  }
  const cls = await registry.load(serviceType);
  print(JSON.stringify(defaultConfigurationSchema(cls), null, 2));
  return 0;
}
