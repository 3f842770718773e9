/**
 * Loading and validating `config.yml`: same shape and key names as Elastic's Python framework
 * (spec §6), merged over the `DEFAULT_*` constants of `defaults.ts`. Every key, its type, its
 * bounds and its default are declared once, in `_schema.ts`.
 *
 * @module
 */
import type { LineCounter, YAMLError } from "yaml";
import { ConfigError } from "../errors/mod.ts";
import { displayUrl, registerUrlSecrets } from "../log/mod.ts";
import { checkTree, checkValue, describe, isPlainObject, unknownKeyError } from "./_check.ts";
import type { CheckContext } from "./_check.ts";
import { type KeyPath, parseWithPositions } from "./_locate.ts";
import { CONFIG_KEYS, keySpec } from "./_schema.ts";
import { applySecretFiles } from "./_secret_files.ts";
import { ENV_OVERRIDES, expandDottedKeys, interpolate, readEnv, setPath } from "./_tree.ts";
import { rememberSourceGrants } from "../source/sandbox/grants.ts";
import { rememberLocations } from "./locations.ts";
import * as D from "./defaults.ts";
import type { Config, ConnectorEntry, ElasticsearchConfig, ServiceConfig } from "./types.ts";

export type {
  BulkConfig,
  Config,
  ConnectorEntry,
  ElasticsearchConfig,
  ErrorMonitorConfig,
  ServiceConfig,
} from "./types.ts";

export { ENV_OVERRIDES };

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Reads an environment variable; defaults to `Deno.env.get` (permission errors surface). */
  env?: (name: string) => string | undefined;
}

/**
 * Reads, parses and validates a config file.
 *
 * Errors are {@linkcode ConfigError}s naming the file and the key path, with `line:column` for
 * YAML syntax errors. Secret values are registered for redaction.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const file = await Deno.makeTempFile({ suffix: ".yml" });
 * await Deno.writeTextFile(file, "connectors:\n  - connector_id: abc\n    service_type: dir\n");
 * const config = await loadConfig(file, { env: () => undefined });
 * if (config.connectors[0]!.connector_id !== "abc") throw new Error();
 * ```
 */
export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ConfigError(`Cannot read config file ${path}: no such file`);
    }
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new ConfigError(
        `Cannot read config file ${path}: permission denied (run with --allow-read=${path})`,
      );
    }
    throw new ConfigError(`Cannot read config file ${path}: ${(error as Error).message}`);
  }
  return parseConfig(text, absolutePath(path), options);
}

function absolutePath(path: string): string {
  if (path.startsWith("/")) return path;
  try {
    return `${Deno.cwd()}/${path}`.replace(/\/\.\//g, "/");
  } catch {
    return path;
  }
}

/**
 * Parses and validates config text; `file` is used in messages.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const config = parseConfig("service:\n  idling: 5\n", "inline.yml", { env: () => undefined });
 * if (config.service.idling !== 5) throw new Error();
 * ```
 */
export function parseConfig(text: string, file: string, options: LoadConfigOptions = {}): Config {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const { doc, lineCounter, where } = parseWithPositions(text);
  const firstError = doc.errors[0];
  if (firstError) throw yamlError(file, firstError, lineCounter);
  const raw = doc.toJS() ?? {};
  if (!isPlainObject(raw)) {
    throw new ConfigError(`${file}: the top level must be a mapping of keys`);
  }
  const tree = expandDottedKeys(raw, file);
  interpolate(tree, "", file, env);
  for (const [variable, keyPath] of Object.entries(ENV_OVERRIDES)) {
    const value = readEnv(env, variable, file);
    if (value !== undefined && value !== "") setPath(tree, keyPath, value);
  }
  const ctx: CheckContext = { file, where, warnings: [] };
  const { config, connectorPaths } = build(checkTree(tree, ctx), ctx);
  const listed = getPath(tree, "service.service_types").value;
  rememberLocations(config, {
    where,
    connectorPaths,
    serviceTypes: Array.isArray(listed) ? listed : [],
  });
  return config;
}

function yamlError(file: string, error: YAMLError, lines: LineCounter): ConfigError {
  const pos = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
  const reason = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+.*$/, "");
  return new ConfigError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${reason}`);
}

function checkConnectors(value: unknown, ctx: CheckContext): ConnectorEntry[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry, i) => {
    const path = ["connectors", i];
    const at = ctx.file + ctx.where(path);
    if (!isPlainObject(entry)) {
      throw new ConfigError(`${at}: connectors[${i}] must be a mapping, got ${describe(entry)}`);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(entry)) {
      const spec = keySpec(`connectors[].${key}`);
      if (!spec) throw unknownKeyError("connectors[]", key, [...path, key], ctx);
      if (v === undefined || (v === null && !spec.nullable)) continue;
      out[key] = checkValue(v, spec, [...path, key], ctx);
    }
    if (!out.connector_id) {
      throw new ConfigError(`${at}: connectors[${i}].connector_id is required`);
    }
    return out as unknown as ConnectorEntry;
  });
}

function getPath(tree: Record<string, unknown>, path: string): { found: boolean; value: unknown } {
  let node: unknown = tree;
  for (const part of path.split(".")) {
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) {
      return { found: false, value: undefined };
    }
    node = node[part];
  }
  return { found: true, value: node };
}

/** The checked tree with every `elasticsearch` and `service` default filled in. */
function withDefaults(tree: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { elasticsearch: {}, service: {} };
  for (const spec of CONFIG_KEYS) {
    if (!/^(elasticsearch|service)\./.test(spec.path)) continue;
    const { found, value } = getPath(tree, spec.path);
    if (!found && spec.default === undefined) continue;
    setPath(out, spec.path, found ? value : structuredClone(spec.default));
  }
  return out;
}

function build(
  tree: Record<string, unknown>,
  ctx: CheckContext,
): { config: Config; connectorPaths: KeyPath[] } {
  const { file, where, warnings } = ctx;
  const connectors = checkConnectors(tree.connectors, ctx);
  const connectorPaths: KeyPath[] = connectors.map((_, i) => ["connectors", i]);
  if (typeof tree.connector_id === "string") {
    if (connectors.some((c) => c.connector_id === tree.connector_id)) {
      warnings.push(
        `${file}${where(["connector_id"])}: connector ${tree.connector_id} is listed twice`,
      );
    } else {
      const single: ConnectorEntry = { connector_id: tree.connector_id };
      if (typeof tree.service_type === "string") single.service_type = tree.service_type;
      connectors.push(single);
      connectorPaths.push([]);
    }
  } else if (tree.service_type !== undefined) {
    throw new ConfigError(
      `${file}${where(["service_type"])}: service_type needs connector_id beside it`,
    );
  }

  const filled = withDefaults(tree);
  const elasticsearch = filled.elasticsearch as ElasticsearchConfig;
  const service = filled.service as ServiceConfig;
  applySecretFiles(filled.elasticsearch as never, connectors as never, connectorPaths, ctx);
  registerUrlSecrets(elasticsearch.host);
  service.service_types = [...new Set(service.service_types)];
  if (elasticsearch.password !== undefined && elasticsearch.username === undefined) {
    throw new ConfigError(
      `${file}${
        where(["elasticsearch", "password"])
      }: elasticsearch.password needs elasticsearch.username`,
    );
  }
  if (!/^https?:\/\/[^\s/]+/.test(elasticsearch.host)) {
    throw new ConfigError(
      `${file}${
        where(["elasticsearch", "host"])
      }: elasticsearch.host must be an http:// or https:// URL, got ${
        JSON.stringify(displayUrl(elasticsearch.host))
      }`,
    );
  }
  if (service.worker_mode && service.service_types.length === 0) {
    throw new ConfigError(
      `${file}${
        where(["service", "worker_mode"])
      }: service.worker_mode is true but service.service_types is empty; list the service types to serve`,
    );
  }

  const sources = { ...D.DEFAULT_SOURCES, ...(tree.sources as Record<string, string> | undefined) };
  for (const [type, fqn] of Object.entries(sources)) {
    if (!/^.+:[A-Za-z_$][\w$]*$/.test(fqn)) {
      throw new ConfigError(
        `${file}${where(["sources", type])}: sources.${type} must be MODULE:ClassName, got ${
          JSON.stringify(fqn)
        }`,
      );
    }
  }
  rememberSourceGrants(sources, ctx.sourceGrants ?? {});
  const config: Config = { file, elasticsearch, service, connectors, sources, warnings };
  return { config, connectorPaths };
}

/**
 * The configuration with no file at all: every default, no connectors.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * if (defaultConfig().service.idling !== 30) throw new Error();
 * ```
 */
export function defaultConfig(): Config {
  return parseConfig("{}", "<defaults>", { env: () => undefined });
}
