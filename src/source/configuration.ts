/**
 * Configuration fields of a source (spec §2.1): filling the schema a class declares, merging it
 * into a stored connector configuration, coercing values to their field type and validating them
 * the way Elastic's framework does.
 *
 * @module
 */
import { FatalError } from "../errors/mod.ts";
import { registerSecret } from "../log/mod.ts";
import type {
  ConfigField,
  ConfigFieldSpec,
  ConfigFieldType,
  ConfigurationSpec,
  SourceConfiguration,
} from "./types.ts";

/** What the configuration helpers need from a source class. */
export interface ConfigurableClass {
  getDefaultConfiguration(): ConfigurationSpec;
}

/**
 * The standard properties of a field and the defaults the framework fills (spec §2.1).
 *
 * @example
 * ```ts
 * import { defaultField } from "./configuration.ts";
 * const field = defaultField("host");
 * if (field.label !== "HOST" || field.type !== "str" || field.required !== true) throw new Error();
 * ```
 */
export function defaultField(key: string): ConfigField {
  return {
    label: key.toUpperCase(),
    value: "",
    default_value: null,
    type: "str",
    display: "text",
    options: [],
    order: 1,
    required: true,
    sensitive: false,
    tooltip: null,
    depends_on: [],
    validations: [],
    ui_restrictions: [],
  };
}

/** Names of the standard field properties; a stored field lacking one of them gets it filled. */
export const STANDARD_FIELD_PROPERTIES: readonly (keyof ConfigField)[] = Object.keys(
  defaultField("x"),
) as (keyof ConfigField)[];

const FIELD_TYPES: readonly ConfigFieldType[] = ["str", "int", "float", "bool", "list"];

/**
 * A field or validation problem in a connector's configuration. The message names each field by
 * label and key and never contains the value of a sensitive field.
 *
 * @example
 * ```ts
 * import { ConfigurationValidationError } from "./configuration.ts";
 * const error = new ConfigurationValidationError(["'Port' (port) cannot be empty"]);
 * if (!error.message.includes("(port)")) throw new Error();
 * ```
 */
export class ConfigurationValidationError extends FatalError {
  /** One entry per problem found. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Field validation errors: ${problems.join("; ")}`);
    this.problems = problems;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCategory(value: unknown): boolean {
  return isPlainObject(value) && value.type === "category";
}

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

/**
 * The full schema of a source class: every declared field completed with the standard
 * defaults (label = upper-cased key when empty). This is what a new connector receives.
 *
 * @example
 * ```ts
 * import { defaultConfigurationSchema } from "./configuration.ts";
 * class Demo {
 *   static getDefaultConfiguration() {
 *     return { port: { label: "Port", type: "int" as const, value: 9200 }, host: {} };
 *   }
 * }
 * const schema = defaultConfigurationSchema(Demo);
 * if (schema.port!.required !== true || schema.host!.label !== "HOST") throw new Error();
 * ```
 */
export function defaultConfigurationSchema(cls: ConfigurableClass): SourceConfiguration {
  const out: SourceConfiguration = {};
  for (const [key, spec] of Object.entries(cls.getDefaultConfiguration() ?? {})) {
    out[key] = completeField(key, spec);
  }
  return out;
}

function completeField(key: string, spec: ConfigFieldSpec): ConfigField {
  const field = { ...defaultField(key), ...clone(spec) } as ConfigField;
  if (field.label === undefined || field.label === null || field.label === "") {
    field.label = key.toUpperCase();
  }
  return field;
}

/** Field types whose values name data (a folder, a host, buckets), unlike toggles and numbers. */
const LOCATING_TYPES: readonly string[] = ["str", "list"];

/**
 * A schema field for a key a stored configuration lacks: a required text or list field stays
 * empty (a removed folder or bucket must not come back as the schema's value, validation names
 * it instead); toggles, numbers and optional fields take the schema's value.
 */
function missingField(field: ConfigField): ConfigField {
  const out = clone(field);
  if (out.required && LOCATING_TYPES.includes(out.type)) out.value = coerceValue(null, out.type);
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Python truthiness, used where Elastic's merge writes `default or stored`. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/**
 * Merges a source's schema into a stored connector configuration, as the service does when it
 * prepares a connector (spec §2.1): an empty configuration becomes the whole default schema;
 * missing keys are added (a required one with an empty value, so that the connector needs
 * configuration instead of syncing a default; existing values kept, their other properties
 * refreshed from the schema); fields lacking standard properties get them filled. Kibana's `type: "category"`
 * entries and fields the schema does not know are left as they are. `changed` says whether the
 * connector document must be written.
 *
 * @example
 * ```ts
 * import { mergeConfigurationSchema } from "./configuration.ts";
 * class Demo {
 *   static getDefaultConfiguration() {
 *     return {
 *       host: { label: "Host", value: "localhost" },
 *       port: { type: "int" as const, value: 1 },
 *       database: { label: "Database", value: "main" },
 *     };
 *   }
 * }
 * const stored = { host: { label: "Host", value: "db.local" } };
 * const { configuration, changed } = mergeConfigurationSchema(stored, Demo);
 * if (!changed || configuration.host!.value !== "db.local" || configuration.port!.value !== 1) {
 *   throw new Error();
 * }
 * // A required text field the store lacks stays empty: the connector needs configuration.
 * if (configuration.database!.value !== "") throw new Error();
 * ```
 */
export function mergeConfigurationSchema(
  stored: Record<string, unknown> | null | undefined,
  cls: ConfigurableClass,
): { configuration: SourceConfiguration; changed: boolean } {
  const schema = defaultConfigurationSchema(cls);
  const fieldKeys = Object.keys(stored ?? {}).filter((key) => !isCategory(stored?.[key]));
  if (!stored || fieldKeys.length === 0) {
    // Kibana's category entries survive the first write of the schema.
    return {
      configuration: { ...clone(stored ?? {}), ...schema } as SourceConfiguration,
      changed: true,
    };
  }
  const result = clone(stored) as Record<string, unknown>;
  let changed = false;
  const missing = Object.keys(schema).filter((key) => !(key in stored));
  if (missing.length > 0) {
    changed = true;
    for (const key of missing) result[key] = missingField(schema[key]!);
    // Elastic refreshes the other properties of existing fields from the schema (`default or stored`).
    for (const key of fieldKeys) {
      const current = result[key];
      const defaults = schema[key] as Record<string, unknown> | undefined;
      if (!isPlainObject(current) || !defaults) continue;
      for (const [property, value] of Object.entries(current)) {
        if (property === "value" || sameJson(defaults[property], value)) continue;
        if (truthy(defaults[property])) current[property] = clone(defaults[property]);
      }
    }
  }
  for (const key of fieldKeys) {
    const current = result[key];
    const defaults = schema[key];
    if (!isPlainObject(current) || !defaults) continue;
    const lacking = STANDARD_FIELD_PROPERTIES.filter((property) => !(property in current));
    if (lacking.length === 0) continue;
    changed = true;
    for (const property of lacking) current[property] = clone(defaults[property]);
  }
  return { configuration: result as SourceConfiguration, changed };
}

/**
 * True when a value counts as empty for `required` and `default_value` (Elastic's rules): `null`,
 * `undefined`, `""`, or a list whose items are all `null` or `""`.
 *
 * @example
 * ```ts
 * import { isEmptyValue } from "./configuration.ts";
 * if (!isEmptyValue(["", null]) || isEmptyValue(0) || isEmptyValue(false)) throw new Error();
 * ```
 */
export function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === "") return true;
  if (Array.isArray(value)) return value.every((item) => item === null || item === "");
  return false;
}

const TRUE_WORDS = new Set(["true", "t", "yes", "y", "on", "1"]);
const FALSE_WORDS = new Set(["false", "f", "no", "n", "off", "0"]);

/**
 * Coerces a raw value to a field type. Values that cannot be coerced are returned unchanged so
 * that {@linkcode validateConfiguration} can report them; empty values become `""` (str),
 * `[]` (list) or `null` (others).
 *
 * @example
 * ```ts
 * import { coerceValue } from "./configuration.ts";
 * if (coerceValue("42", "int") !== 42) throw new Error();
 * if (coerceValue("false", "bool") !== false) throw new Error();
 * if (coerceValue(" a, ,b ", "list").join("|") !== "a|b") throw new Error();
 * ```
 */
// deno-lint-ignore no-explicit-any
export function coerceValue(value: unknown, type: ConfigFieldType | string): any {
  switch (type) {
    case "list":
      if (Array.isArray(value)) return value;
      if (typeof value === "string") {
        return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
      }
      return value === null || value === undefined ? [] : [value];
    case "int": {
      if (value === null || value === undefined || value === "") return null;
      if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
      if (typeof value === "boolean") return value ? 1 : 0;
      return value;
    }
    case "float": {
      if (value === null || value === undefined || value === "") return null;
      if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) {
        return Number(value);
      }
      return value;
    }
    case "bool": {
      if (value === null || value === undefined || value === "") return null;
      if (typeof value === "string") {
        const word = value.trim().toLowerCase();
        if (TRUE_WORDS.has(word)) return true;
        if (FALSE_WORDS.has(word)) return false;
      }
      if (value === 0 || value === 1) return value === 1;
      return value;
    }
    case "str":
      if (value === null || value === undefined) return "";
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      return value;
    default:
      return value;
  }
}

/**
 * The configuration a source receives: the stored fields (Kibana's shape, or a plain map of
 * key → value) completed with the class's schema and the standard defaults, `type` taken from
 * the schema, `value` coerced to it, and an empty value of a non-required field replaced by
 * its `default_value`. Keys the schema declares but the stored configuration lacks are added
 * with their schema value, or empty when required (validation then names them). Kibana's `type: "category"` entries are dropped.
 *
 * @example
 * ```ts
 * import { toSourceConfiguration } from "./configuration.ts";
 * const config = toSourceConfiguration({
 *   port: { label: "Port", type: "int", value: "9200" },
 *   tags: { type: "list", value: "a, b" },
 *   retries: { type: "int", value: "", required: false, default_value: 3 },
 *   directory: "/tmp",
 * });
 * if (config.port!.value !== 9200 || config.retries!.value !== 3) throw new Error();
 * if ((config.tags!.value as string[]).length !== 2 || config.directory!.value !== "/tmp") throw new Error();
 * ```
 */
export function toSourceConfiguration(
  stored: Record<string, unknown> | null | undefined,
  cls?: ConfigurableClass,
): SourceConfiguration {
  const schema = cls ? defaultConfigurationSchema(cls) : {};
  const out: SourceConfiguration = {};
  for (const [key, raw] of Object.entries(stored ?? {})) {
    if (isCategory(raw)) continue;
    const base = schema[key] ?? defaultField(key);
    const field: ConfigField = isPlainObject(raw)
      ? { ...base, ...clone(raw) } as ConfigField
      : { ...base, value: clone(raw) };
    if (field.label === undefined || field.label === null || field.label === "") {
      field.label = key.toUpperCase();
    }
    // The schema decides the type, as Elastic's `set_defaults` does.
    if (schema[key]) field.type = schema[key].type;
    out[key] = field;
  }
  for (const [key, field] of Object.entries(schema)) {
    if (!(key in out)) out[key] = missingField(field);
  }
  for (const field of Object.values(out)) {
    field.value = coerceValue(field.value, field.type);
    if (!field.required && isEmptyValue(field.value)) {
      field.value = coerceValue(clone(field.default_value), field.type);
    }
  }
  return out;
}

function typeProblem(field: ConfigField): string | undefined {
  const value = field.value;
  if (isEmptyValue(value)) return undefined;
  switch (field.type) {
    case "int":
      return Number.isInteger(value) ? undefined : "must be an integer";
    case "float":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "must be a number";
    case "bool":
      return typeof value === "boolean" ? undefined : "must be true or false";
    case "list":
      return Array.isArray(value) ? undefined : "must be a list";
    case "str":
      return typeof value === "string" ? undefined : "must be a string";
    default:
      return FIELD_TYPES.includes(field.type) ? undefined : `has an unknown type "${field.type}"`;
  }
}

function show(field: ConfigField, value: unknown): string {
  if (field.sensitive) return "(hidden)";
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return `'${text.length > 80 ? text.slice(0, 77) + "..." : text}'`;
}

function sameValue(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (actual === null || actual === undefined || expected === null || expected === undefined) {
    return false;
  }
  // Kibana may store the dependency's value as a string ("true") or typed (true).
  return typeof actual !== "object" && String(actual) === String(expected);
}

function validationProblems(field: ConfigField, name: string): string[] {
  const problems: string[] = [];
  const value = field.value;
  for (const validation of field.validations ?? []) {
    const constraint = validation.constraint;
    switch (validation.type) {
      case "less_than":
        if (!(typeof value === "number" && value < (constraint as number))) {
          problems.push(`${name} value ${show(field, value)} should be less than ${constraint}`);
        }
        break;
      case "greater_than":
        if (!(typeof value === "number" && value > (constraint as number))) {
          problems.push(`${name} value ${show(field, value)} should be greater than ${constraint}`);
        }
        break;
      case "list_type": {
        if (!Array.isArray(value)) {
          problems.push(`${name} cannot be checked for list_type because its value is not a list`);
          break;
        }
        for (const item of value) {
          const ok = constraint === "int" ? Number.isInteger(item) : typeof item === "string";
          if (!ok) {
            problems.push(
              `${name} list value ${show(field, item)} should be of type ${constraint}`,
            );
          }
        }
        break;
      }
      case "included_in": {
        const allowed = Array.isArray(constraint) ? constraint : [constraint];
        const items = Array.isArray(value) ? value : [value];
        for (const item of items) {
          if (!allowed.some((choice) => sameValue(item, choice))) {
            problems.push(
              `${name} value ${show(field, item)} should be one of ${
                allowed.map(String).join(", ")
              }`,
            );
          }
        }
        break;
      }
      case "regex": {
        if (typeof value !== "string") {
          problems.push(`${name} cannot be checked against a regex because it is not a string`);
          break;
        }
        let matches: boolean;
        try {
          matches = new RegExp(`^(?:${constraint})$`, "u").test(value);
        } catch {
          problems.push(`${name} has an invalid regex validation ${constraint}`);
          break;
        }
        if (!matches) {
          problems.push(`${name} value ${show(field, value)} failed regex check ${constraint}`);
        }
        break;
      }
      default:
        break;
    }
  }
  return problems;
}

/**
 * Validates a configuration the way Elastic's framework does before a sync: fields whose
 * `depends_on` is not met are skipped; a required field must not be empty; the value must have
 * the field's type; each of its `validations` must pass. Throws a
 * {@linkcode ConfigurationValidationError} listing every problem, naming each field by label
 * and key; values of sensitive fields are never included.
 *
 * @example
 * ```ts
 * import { toSourceConfiguration, validateConfiguration } from "./configuration.ts";
 * const config = toSourceConfiguration({
 *   port: { label: "Port", type: "int", value: "70000", validations: [{ type: "less_than", constraint: 65536 }] },
 * });
 * try {
 *   validateConfiguration(config);
 *   throw new Error("expected a failure");
 * } catch (error) {
 *   if (!(error as Error).message.includes("'Port' (port) value '70000' should be less than 65536")) throw error;
 * }
 * ```
 */
export function validateConfiguration(configuration: SourceConfiguration): void {
  const problems: string[] = [];
  for (const [key, field] of Object.entries(configuration)) {
    if (!isPlainObject(field) || isCategory(field)) continue;
    const name = `'${field.label || key.toUpperCase()}' (${key})`;
    let dependenciesMet = true;
    for (const dependency of field.depends_on ?? []) {
      const other = configuration[dependency.field];
      if (!other) {
        problems.push(
          `${name} depends on configuration '${dependency.field}', but it does not exist`,
        );
        dependenciesMet = false;
        break;
      }
      if (!sameValue(other.value, dependency.value)) {
        dependenciesMet = false;
        break;
      }
    }
    if (!dependenciesMet) continue;
    if (field.required && isEmptyValue(field.value)) {
      problems.push(`${name} cannot be empty`);
      continue;
    }
    const wrongType = typeProblem(field);
    if (wrongType) {
      problems.push(`${name} ${wrongType}, got ${show(field, field.value)}`);
      continue;
    }
    if (isEmptyValue(field.value)) continue;
    problems.push(...validationProblems(field, name));
  }
  if (problems.length > 0) throw new ConfigurationValidationError(problems);
}

/**
 * Registers the non-empty values of sensitive fields for redaction (logs and error texts) and
 * returns them.
 *
 * @example
 * ```ts
 * import { sensitiveValues } from "./configuration.ts";
 * import { redact } from "../log/mod.ts";
 * const found = sensitiveValues({ password: { sensitive: true, value: "s3cr3t-pw" } } as never);
 * if (found.length !== 1 || redact("pw=s3cr3t-pw").includes("s3cr3t")) throw new Error();
 * ```
 */
export function sensitiveValues(configuration: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const field of Object.values(configuration ?? {})) {
    if (!isPlainObject(field) || field.sensitive !== true) continue;
    const values = Array.isArray(field.value) ? field.value : [field.value];
    for (const value of values) {
      if (value === null || value === undefined || value === "") continue;
      const text = typeof value === "string" ? value : JSON.stringify(value);
      registerSecret(text);
      found.push(text);
    }
  }
  return found;
}
