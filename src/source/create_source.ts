/**
 * Building a source instance from a connector's stored configuration.
 *
 * @module
 */
import { FatalError } from "../errors/mod.ts";
import { sensitiveValues, toSourceConfiguration } from "./configuration.ts";
import type { DataSource, DataSourceClass, SourceContext } from "./types.ts";

/**
 * Coerces the stored configuration (Kibana's field objects, or a plain key → value map) with
 * the class schema, registers sensitive values for redaction, constructs the source and checks
 * that the instance has `ping()` and `getDocs()` (and `getAccessControl()` when the class
 * declares `features.documentLevelSecurity`). Field validation is separate
 * (`validateConfiguration`), as in Elastic's framework where it runs before ping and sync.
 *
 * @example
 * ```ts
 * import { BaseDataSource, createSource, standaloneContext } from "./mod.ts";
 * class Demo extends BaseDataSource {
 *   static override getDefaultConfiguration() {
 *     return { size: { type: "int" as const, value: 1 } };
 *   }
 *   size(): number {
 *     return this.value<number>("size");
 *   }
 * }
 * const source = createSource(Demo, { size: { value: "5" } }, standaloneContext()) as Demo;
 * if (source.size() !== 5) throw new Error();
 * ```
 */
export function createSource(
  cls: DataSourceClass,
  storedConfiguration: Record<string, unknown> | null | undefined,
  context: SourceContext,
): DataSource {
  const configuration = toSourceConfiguration(storedConfiguration, cls);
  sensitiveValues(configuration);
  const source = new cls(configuration, context);
  const required = cls.features?.documentLevelSecurity
    ? ["ping", "getDocs", "getAccessControl"] as const
    : ["ping", "getDocs"] as const;
  const missing = required.filter(
    (member) => typeof (source as unknown as Record<string, unknown>)?.[member] !== "function",
  );
  if (missing.length > 0) {
    const name = cls.displayName || cls.name || "source";
    throw new FatalError(
      `Source ${name} is not usable: its instances lack ${missing.map((m) => `${m}()`).join(", ")}`,
    );
  }
  return source;
}
