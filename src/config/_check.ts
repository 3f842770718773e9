/**
 * Checking a config tree against the schema of `_schema.ts`: types and bounds of each value,
 * unknown keys as errors with a "did you mean" suggestion, keys of Elastic's framework that
 * this service does not implement as warnings.
 *
 * @module
 */
import { ConfigError } from "../errors/mod.ts";
import { parseLogLevel, registerSecret } from "../log/mod.ts";
import {
  parseSourceEntry,
  SOURCE_ENTRY_KEYS,
  SourceEntryError,
  type SourceGrant,
} from "../source/sandbox/grants.ts";
import type { KeyPath, Locator } from "./_locate.ts";
import { childNames, CONFIG_KEYS, ELASTIC_ONLY_KEYS, keySpec, RENAMED_KEYS } from "./_schema.ts";
import type { KeySpec } from "./_schema.ts";

const PLACEHOLDER = "changeme";

/**
 * Where messages point: the file, positions of key paths, and the warnings collected; the
 * grants of extended `sources:` entries are collected too.
 */
export interface CheckContext {
  file: string;
  where: Locator;
  warnings: string[];
  sourceGrants?: Record<string, SourceGrant>;
}

/** True for a mapping (not null, not a list). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as messages show it: `string "soon"`, `number 7`, `a list`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** `a.b[0].c` for messages. */
export function label(path: KeyPath): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`).join("");
}

/**
 * Optimal-string-alignment distance (edits, with adjacent swaps), ignoring case and `-`/`_`.
 *
 * @example
 * ```ts
 * import { editDistance } from "./_check.ts";
 * if (editDistance("idlin", "idling") !== 1 || editDistance("haertbeat", "heartbeat") !== 1) throw new Error();
 * ```
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase().replaceAll("-", "_");
  const t = b.toLowerCase().replaceAll("-", "_");
  const d = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length)]);
  for (let j = 0; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[s.length]![t.length]!;
}

function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/**
 * The key an unknown `prefix.name` was probably meant to be: a close sibling, else a key of
 * that (or a close) name elsewhere; undefined when nothing is close.
 *
 * @example
 * ```ts
 * import { suggestKey } from "./_check.ts";
 * if (suggestKey("service", "idlin") !== "service.idling") throw new Error();
 * if (suggestKey("service", "chunk_size") !== "elasticsearch.bulk.chunk_size") throw new Error();
 * if (suggestKey("service", "zzz") !== undefined) throw new Error();
 * ```
 */
export function suggestKey(prefix: string, name: string): string | undefined {
  const join = (child: string) => prefix ? `${prefix}.${child}` : child;
  const sibling = nearest(name, childNames(prefix));
  if (sibling !== undefined) return join(sibling);
  const leaves = new Map<string, string>();
  for (const { path } of CONFIG_KEYS) {
    if (!path.includes("[]")) leaves.set(path.split(".").at(-1)!, path);
  }
  const leaf = nearest(name, leaves.keys());
  return leaf === undefined ? undefined : leaves.get(leaf);
}

function fail(at: string, message: string): ConfigError {
  return new ConfigError(`${at}: ${message}`);
}

function checkBounds(n: number, spec: KeySpec, name: string, at: string): void {
  const { min, max, above } = spec;
  if (min !== undefined && max !== undefined && (n < min || n > max)) {
    throw fail(at, `${name} must be between ${min} and ${max}, got ${n}`);
  }
  if (min !== undefined && n < min) throw fail(at, `${name} must be ${min} or more, got ${n}`);
  if (above !== undefined && n <= above) {
    throw fail(at, `${name} must be more than ${above}, got ${n}`);
  }
}

/**
 * Checks and normalises one value (numbers written as strings, log level names); throws a
 * {@linkcode ConfigError} naming `at` (`file:line:col`) and the key path.
 *
 * @example
 * ```ts
 * import { checkValue } from "./_check.ts";
 * import { keySpec } from "./_schema.ts";
 * const spec = keySpec("service.idling")!;
 * if (checkValue("2.5", spec, ["service", "idling"], { file: "c.yml", where: () => ":2:3", warnings: [] }) !== 2.5) throw new Error();
 * ```
 */
export function checkValue(
  value: unknown,
  spec: KeySpec,
  path: KeyPath,
  ctx: CheckContext,
): unknown {
  const name = label(path);
  const at = ctx.file + ctx.where(path);
  const expected = (what: string) => fail(at, `${name} must be ${what}, got ${describe(value)}`);
  if (value === null && spec.nullable) return null;
  switch (spec.type) {
    case "string": {
      // YAML reads `password: 12345678` as a number: it is a string, and still a secret.
      const text = typeof value === "number" ? String(value) : value;
      if (typeof text !== "string") throw expected("a string");
      if (text.trim() === PLACEHOLDER) {
        throw fail(at, `${name} is still the placeholder "${PLACEHOLDER}"; set a real value`);
      }
      if (spec.secret) registerSecret(text);
      return text;
    }
    case "boolean":
      if (typeof value !== "boolean") throw expected("true or false");
      return value;
    case "integer":
    case "number":
    case "duration": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isFinite(n)) {
        const what = spec.type === "duration" ? "a number of seconds" : "a number";
        throw expected(spec.nullable ? `${what} or null` : what);
      }
      if (spec.type === "integer" && !Number.isInteger(n)) throw expected("a whole number");
      checkBounds(n, spec, name, at);
      return n;
    }
    case "level": {
      const level = typeof value === "string" ? parseLogLevel(value) : undefined;
      if (!level) throw expected("one of DEBUG, INFO, WARNING, ERROR, CRITICAL");
      return level;
    }
    case "strings": {
      if (!Array.isArray(value)) throw expected("a list of strings");
      const item = { ...spec, type: "string" } as const;
      return value.map((v, i) => {
        if (typeof v !== "string") {
          const itemAt = ctx.file + (ctx.where([...path, i]) || ctx.where(path));
          throw fail(itemAt, `${name}[${i}] must be a string, got ${describe(v)}`);
        }
        return checkValue(v, item, [...path, i], ctx) as string;
      });
    }
    case "map": {
      if (!isPlainObject(value)) throw expected("a mapping");
      if (spec.path === "sources") return checkSources(value, path, ctx);
      for (const [k, v] of Object.entries(value)) {
        const entryAt = ctx.file + (ctx.where([...path, k]) || ctx.where(path));
        if (typeof v !== "string") {
          throw fail(entryAt, `${name}.${k} must be a string, got ${describe(v)}`);
        }
        if (v.trim() === PLACEHOLDER) {
          throw fail(entryAt, `${name}.${k} is still the placeholder "${PLACEHOLDER}"`);
        }
      }
      return value;
    }
    case "entries":
      if (!Array.isArray(value)) throw expected("a list");
      return value;
  }
}

/**
 * Checks the `sources:` map: each entry `MODULE:ClassName` (Elastic's form) or a mapping with
 * `module` and the grants of a sandboxed source (`net`, `read`, `env`, `import`, `integrity`);
 * returns service type → FQN and records the grants in `ctx.sourceGrants`.
 *
 * @example
 * ```ts
 * import { checkSources } from "./_check.ts";
 * const ctx = { file: "c.yml", where: () => ":3:7", warnings: [] };
 * const fqns = checkSources({ r: { module: "https://s.example/m.ts:S", env: ["TOKEN"] } }, ["sources"], ctx);
 * if (fqns.r !== "https://s.example/m.ts:S" || (ctx as { sourceGrants?: Record<string, { env: string[] }> }).sourceGrants?.r?.env[0] !== "TOKEN") throw new Error();
 * ```
 */
export function checkSources(
  value: Record<string, unknown>,
  path: KeyPath,
  ctx: CheckContext,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [type, entry] of Object.entries(value)) {
    const at = (below: KeyPath, key = false) =>
      ctx.file + (ctx.where([...path, type, ...below], key) || ctx.where([...path, type]));
    const name = label([...path, type]);
    const module = isPlainObject(entry) ? entry.module : entry;
    if (typeof module === "string" && module.trim() === PLACEHOLDER) {
      throw fail(
        at(isPlainObject(entry) ? ["module"] : []),
        `${name} is still the placeholder "${PLACEHOLDER}"`,
      );
    }
    if (typeof entry !== "string" && !isPlainObject(entry)) {
      throw fail(at([]), `${name} must be a string, got ${describe(entry)}`);
    }
    for (const key of isPlainObject(entry) ? Object.keys(entry) : []) {
      if (SOURCE_ENTRY_KEYS.includes(key)) continue;
      const close = SOURCE_ENTRY_KEYS.find((known) => editDistance(key, known) <= 2);
      const hint = close
        ? `; did you mean ${name}.${close}?`
        : ` (${SOURCE_ENTRY_KEYS.join(", ")})`;
      throw fail(at([key], true), `unknown key ${name}.${key}${hint}`);
    }
    try {
      const { fqn, grant } = parseSourceEntry(entry);
      out[type] = fqn;
      if (grant) (ctx.sourceGrants ??= {})[type] = grant;
    } catch (error) {
      if (!(error instanceof SourceEntryError)) throw error;
      const full = label([...path, type, ...error.path]);
      throw fail(at(error.path), `${full} ${error.message}`);
    }
  }
  return out;
}

/**
 * The error of an unknown key `prefix.name` at `path`, with a suggestion when one is close.
 *
 * @example
 * ```ts
 * import { unknownKeyError } from "./_check.ts";
 * const error = unknownKeyError("service", "idlin", ["service", "idlin"], { file: "c.yml", where: () => ":2:3", warnings: [] });
 * if (error.message !== "c.yml:2:3: unknown key service.idlin; did you mean service.idling?") throw new Error(error.message);
 * ```
 */
export function unknownKeyError(
  prefix: string,
  name: string,
  path: KeyPath,
  ctx: CheckContext,
): ConfigError {
  const at = ctx.file + ctx.where(path, true);
  const full = prefix ? `${prefix}.${name}` : name;
  const renamed = RENAMED_KEYS[full];
  if (renamed) return fail(at, `${label(path)} is an old key name; did you mean ${renamed}?`);
  let suggestion = suggestKey(prefix, name);
  // Inside a list entry (`connectors[]`), suggest the key of that entry: connectors[0].api_key.
  if (prefix.endsWith("[]") && suggestion?.startsWith(`${prefix}.`)) {
    suggestion = label([...path.slice(0, -1), suggestion.slice(prefix.length + 1)]);
  }
  const hint = suggestion === undefined ? "" : `; did you mean ${suggestion}?`;
  return fail(at, `unknown key ${label(path)}${hint}`);
}

/**
 * Checks a (dotted-keys-expanded) tree against the schema: returns the known keys with
 * checked values; unknown keys throw, Elastic-only ones add a warning to `ctx.warnings`.
 *
 * @example
 * ```ts
 * import { checkTree } from "./_check.ts";
 * const ctx = { file: "c.yml", where: () => "", warnings: [] as string[] };
 * const out = checkTree({ service: { idling: "5" }, extraction_service: { host: "x" } }, ctx);
 * if ((out.service as { idling: number }).idling !== 5 || ctx.warnings.length !== 1) throw new Error();
 * ```
 */
export function checkTree(
  tree: Record<string, unknown>,
  ctx: CheckContext,
  prefix = "",
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(tree)) {
    const full = prefix ? `${prefix}.${name}` : name;
    const path = full.split(".");
    if (ELASTIC_ONLY_KEYS.includes(full)) {
      ctx.warnings.push(
        `${ctx.file}${
          ctx.where(path, true)
        }: ${full} is a key of Elastic's framework that this service does not implement; ignored`,
      );
      continue;
    }
    const spec = keySpec(full);
    if (spec) {
      if (value === undefined || (value === null && !spec.nullable)) continue; // the default
      out[name] = checkValue(value, spec, path, ctx);
      continue;
    }
    if (childNames(full).length === 0) throw unknownKeyError(prefix, name, path, ctx);
    if (value === null || value === undefined) continue; // an empty section: the defaults
    if (!isPlainObject(value)) {
      throw fail(
        ctx.file + ctx.where(path),
        `${full} must be a mapping, got ${describe(value)}`,
      );
    }
    out[name] = checkTree(value, ctx, full);
  }
  return out;
}
