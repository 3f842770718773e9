/**
 * The raw config tree before it is checked: environment interpolation and overrides, dotted
 * keys expanded into mappings.
 *
 * @module
 */
import { ConfigError } from "../errors/mod.ts";
import { isPlainObject } from "./_check.ts";

/**
 * Variables that override config values, and the key each one sets.
 *
 * @example
 * ```ts
 * import { ENV_OVERRIDES } from "./_tree.ts";
 * if (ENV_OVERRIDES.CONNECTORS_ES_HOST !== "elasticsearch.host") throw new Error();
 * ```
 */
export const ENV_OVERRIDES: Readonly<Record<string, string>> = {
  CONNECTORS_ES_HOST: "elasticsearch.host",
  CONNECTORS_ES_USERNAME: "elasticsearch.username",
  CONNECTORS_ES_PASSWORD: "elasticsearch.password",
  CONNECTORS_ES_API_KEY: "elasticsearch.api_key",
  CONNECTORS_ES_CA_CERTS: "elasticsearch.ca_certs",
};

/**
 * Reads an environment variable for the config; a refused read is a {@linkcode ConfigError}
 * naming the flag (refused overrides read as unset).
 *
 * @example
 * ```ts
 * import { readEnv } from "./_tree.ts";
 * if (readEnv(() => "x", "A", "c.yml") !== "x") throw new Error();
 * ```
 */
export function readEnv(
  env: (name: string) => string | undefined,
  name: string,
  file: string,
): string | undefined {
  try {
    return env(name);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      if (ENV_OVERRIDES[name] !== undefined) return undefined;
      throw new ConfigError(
        `${file}: the config reads \${${name}}: run with --allow-env=${name} to allow it`,
      );
    }
    throw error;
  }
}

/**
 * Turns dotted keys (`service.idling: 3`) into nested mappings, merged with nested ones; keys
 * of `sources` and `headers` are data and stay as they are.
 *
 * @example
 * ```ts
 * import { expandDottedKeys } from "./_tree.ts";
 * const tree = expandDottedKeys({ "service.idling": 3, service: { heartbeat: 9 } }, "c.yml");
 * if (JSON.stringify(tree) !== '{"service":{"idling":3,"heartbeat":9}}') throw new Error();
 * ```
 */
export function expandDottedKeys(
  tree: Record<string, unknown>,
  file: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tree)) {
    // `sources` and `headers` keys are data (service types, header names), not paths.
    const expanded = isPlainObject(value) && key !== "sources" && key !== "headers"
      ? expandDottedKeys(value, file)
      : value;
    if (key.includes(".") && !["sources", "headers"].includes(key.split(".").at(-2) ?? "")) {
      setPath(out, key, expanded);
    } else if (isPlainObject(out[key]) && isPlainObject(expanded)) {
      Object.assign(out[key] as Record<string, unknown>, expanded);
    } else {
      out[key] = expanded;
    }
  }
  return out;
}

/**
 * Sets a dotted path in a tree, creating mappings on the way (mappings merge).
 *
 * @example
 * ```ts
 * import { setPath } from "./_tree.ts";
 * const tree: Record<string, unknown> = {};
 * setPath(tree, "elasticsearch.host", "http://h:9200");
 * if ((tree.elasticsearch as { host: string }).host !== "http://h:9200") throw new Error();
 * ```
 */
export function setPath(tree: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (isPlainObject(node[last]) && isPlainObject(value)) {
    Object.assign(node[last] as Record<string, unknown>, value);
  } else {
    node[last] = value;
  }
}

/** `${NAME}`, `${NAME|fallback}` and a whole-value `$NAME`. */
const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^}]*))?\}|^\$([A-Za-z_][A-Za-z0-9_]*)$/g;

/**
 * Replaces `${VAR}`, `${VAR|default}` and `$VAR` in every string of a tree (in place); an unset
 * variable without default is a {@linkcode ConfigError} naming the key path.
 *
 * @example
 * ```ts
 * import { interpolate } from "./_tree.ts";
 * const tree = { a: "${HOST|localhost}:9200" };
 * interpolate(tree, "", "c.yml", () => undefined);
 * if (tree.a !== "localhost:9200") throw new Error();
 * ```
 */
export function interpolate(
  node: unknown,
  path: string,
  file: string,
  env: (name: string) => string | undefined,
): unknown {
  if (typeof node === "string") {
    return node.replace(VAR, (_m, braced, fallback, bare) => {
      const name = (braced ?? bare) as string;
      const value = readEnv(env, name, file);
      if (value !== undefined) return value;
      if (fallback !== undefined) return fallback as string;
      throw new ConfigError(`${file}: ${path} uses \${${name}}, which is not set`);
    });
  }
  if (Array.isArray(node)) {
    node.forEach((v, i) => node[i] = interpolate(v, `${path}[${i}]`, file, env));
  } else if (isPlainObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      node[k] = interpolate(v, path ? `${path}.${k}` : k, file, env);
    }
  }
  return node;
}
