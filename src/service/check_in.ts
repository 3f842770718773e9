/**
 * What a check-in writes on a connector before anything else (spec §2.1): the source's
 * configuration schema, `needs_configuration` for a connector without one, the service type and
 * the features. Nothing when the stored document already says all that, so that a steady
 * check-in writes nothing but its heartbeat.
 *
 * @module
 */
import type { Connector, ConnectorDoc } from "../protocol/mod.ts";
import type { DataSourceClass } from "../source/mod.ts";
import { featuresOf, isEmptyValue, mergeConfigurationSchema } from "../source/mod.ts";

/**
 * Deep equality of JSON-like values where the order of object keys does not matter (stored
 * documents come back with their keys in another order than the service built them) but the
 * order of array items does.
 *
 * @example
 * ```ts
 * import { deepEqual } from "./check_in.ts";
 * const built = { sync_rules: { basic: { enabled: true }, advanced: { enabled: false } } };
 * const stored = { sync_rules: { advanced: { enabled: false }, basic: { enabled: true } } };
 * if (!deepEqual(built, stored)) throw new Error("key order must not matter");
 * if (deepEqual([1, 2], [2, 1])) throw new Error("array order matters");
 * ```
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key]));
}

function isEmptyConfiguration(configuration: unknown): boolean {
  if (typeof configuration !== "object" || configuration === null) return true;
  return Object.values(configuration).every((field) =>
    typeof field === "object" && field !== null && (field as { type?: unknown }).type === "category"
  );
}

/**
 * The fields a check-in must write on `current` for a source of class `cls` (schema, status,
 * service type, features), or undefined when the stored document already has them.
 *
 * @example
 * ```ts
 * import { checkInChanges } from "./check_in.ts";
 * class Hello {
 *   static getDefaultConfiguration() {
 *     return { greeting: { label: "Greeting", type: "str", value: "hi" } };
 *   }
 * }
 * const fresh = { id: "c1", seqNo: 0, primaryTerm: 1, doc: { configuration: {}, features: null } };
 * const first = checkInChanges(fresh as never, Hello as never, "hello")!;
 * if (first.status !== "needs_configuration" || first.service_type !== "hello") throw new Error();
 * const stored = { ...fresh, doc: { ...fresh.doc, ...first } };
 * if (checkInChanges(stored as never, Hello as never, "hello") !== undefined) throw new Error();
 * ```
 */
export function checkInChanges(
  current: Connector,
  cls: DataSourceClass,
  serviceType: string,
): Partial<ConnectorDoc> | undefined {
  const doc: Partial<ConnectorDoc> = {};
  const stored = current.doc.configuration as Record<string, unknown> | null;
  const { configuration, changed } = mergeConfigurationSchema(stored, cls);
  if (isEmptyConfiguration(stored)) {
    doc.configuration = configuration;
    doc.status = "needs_configuration";
  } else if (changed) {
    doc.configuration = configuration;
    // A required value that was removed stays empty: the connector needs configuration again.
    const removed = Object.entries(configuration).some(([key, field]) =>
      !(key in (stored ?? {})) && field.required && isEmptyValue(field.value)
    );
    if (removed && current.doc.status !== "created") doc.status = "needs_configuration";
  }
  if (!current.doc.service_type) doc.service_type = serviceType;
  const features = featuresOf(cls);
  const existing = (current.doc.features ?? {}) as Record<string, unknown>;
  const differs = Object.entries(features).some(([key, value]) => !deepEqual(existing[key], value));
  if (differs) doc.features = { ...existing, ...features };
  return Object.keys(doc).length > 0 ? doc : undefined;
}
