/**
 * Loading and validating `config.yml`: same shape and key names as Elastic's Python framework
 * (spec §6), merged over the `DEFAULT_*` constants of `defaults.ts`.
 *
 * @module
 */
import { isMap, isScalar, LineCounter, parseDocument, type YAMLError } from "yaml";
import type { Node as YamlNode } from "yaml";
import { ConfigError } from "../errors/mod.ts";
import type { LogLevel } from "../log/mod.ts";
import { parseLogLevel, registerSecret } from "../log/mod.ts";
import * as D from "./defaults.ts";

/** Settings of the error monitor that fails a sync on too many per-item bulk failures. */
export interface ErrorMonitorConfig {
  enabled: boolean;
  max_total_errors: number;
  max_consecutive_errors: number;
  max_error_rate: number;
  error_window_size: number;
  error_queue_size: number;
}

/** `elasticsearch.bulk`: queue, batching and concurrency of the sink. */
export interface BulkConfig {
  queue_max_size: number;
  /** MiB. */
  queue_max_mem_size: number;
  queue_refresh_interval: number;
  queue_refresh_timeout: number;
  chunk_size: number;
  /** MiB. */
  chunk_max_mem_size: number;
  /** MiB; 0 turns the cap off. */
  max_text_document_size: number;
  max_concurrency: number;
  concurrent_downloads: number;
  max_retries: number;
  retry_interval: number;
  display_every: number;
  enable_operations_logging: boolean;
  error_monitor: ErrorMonitorConfig;
}

/** `elasticsearch`: how to reach and talk to the cluster. */
export interface ElasticsearchConfig {
  host: string;
  username?: string;
  password?: string;
  api_key?: string;
  ca_certs?: string;
  verify_certs: boolean;
  headers: Record<string, string>;
  /** Seconds. */
  request_timeout: number;
  retry_on_timeout: boolean;
  max_retries: number;
  /** Seconds. */
  retry_interval: number;
  /** Seconds. */
  max_wait_duration: number;
  /** Seconds. */
  initial_backoff_duration: number;
  backoff_multiplier: number;
  bulk: BulkConfig;
}

/** `service`: the loops of the connector service. All durations in seconds. */
export interface ServiceConfig {
  idling: number;
  heartbeat: number;
  max_errors: number;
  max_errors_span: number;
  max_concurrent_content_syncs: number;
  max_concurrent_access_control_syncs: number;
  max_concurrent_scheduling_tasks: number;
  max_file_download_size: number;
  job_cleanup_interval: number;
  idle_job_timeout: number;
  job_heartbeat_interval: number;
  job_check_interval: number;
  preflight_max_attempts: number;
  preflight_idle: number;
  progress_interval: number;
  log_level: LogLevel;
  /**
   * Worker mode (spec §4.2): the process also owns every connector of these service types that
   * is not native and not soft-deleted, besides those listed under `connectors`.
   */
  service_types: string[];
  /** Elastic's `service.worker_mode`: true requires `service_types`. */
  worker_mode: boolean;
  /**
   * Mass-deletion guard: a full sync whose source yields nothing may empty a non-empty index
   * only when this is true.
   */
  allow_empty_full_sync: boolean;
  /**
   * Opt-in mass-deletion guard: the largest fraction (0-1) of the documents an index held at
   * the start of a full sync that the sync may delete; null: no limit.
   */
  max_deletion_ratio: number | null;
}

/** One connector this process serves. */
export interface ConnectorEntry {
  connector_id: string;
  service_type?: string;
  /** Per-connector API key used for that connector's content writes. */
  api_key?: string;
  /** Overrides `service.allow_empty_full_sync` for this connector. */
  allow_empty_full_sync?: boolean;
  /** Overrides `service.max_deletion_ratio` for this connector (null: no limit). */
  max_deletion_ratio?: number | null;
}

/** The whole, validated configuration. */
export interface Config {
  /** Absolute path of the file it came from (or `<defaults>`). */
  file: string;
  elasticsearch: ElasticsearchConfig;
  service: ServiceConfig;
  connectors: ConnectorEntry[];
  /** service type → `MODULE:ClassName`. */
  sources: Record<string, string>;
  /** Warnings found while loading (unknown keys), for the caller to log. */
  warnings: string[];
}

type FieldType =
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "duration"
  | "map"
  | "level"
  | "strings";
type Schema = { [key: string]: FieldType | Schema };

const ERROR_MONITOR_SCHEMA: Schema = {
  enabled: "boolean",
  max_total_errors: "integer",
  max_consecutive_errors: "integer",
  max_error_rate: "number",
  error_window_size: "integer",
  error_queue_size: "integer",
};

const SCHEMA: Schema = {
  elasticsearch: {
    host: "string",
    username: "string",
    password: "string",
    api_key: "string",
    ca_certs: "string",
    ssl: "boolean",
    verify_certs: "boolean",
    headers: "map",
    request_timeout: "duration",
    retry_on_timeout: "boolean",
    max_retries: "integer",
    retry_interval: "duration",
    max_wait_duration: "duration",
    initial_backoff_duration: "duration",
    backoff_multiplier: "number",
    log_level: "level",
    feature_use_connectors_api: "boolean",
    bulk: {
      queue_max_size: "integer",
      queue_max_mem_size: "number",
      queue_refresh_interval: "duration",
      queue_refresh_timeout: "duration",
      chunk_size: "integer",
      chunk_max_mem_size: "number",
      max_text_document_size: "number",
      max_concurrency: "integer",
      concurrent_downloads: "integer",
      max_retries: "integer",
      retry_interval: "duration",
      display_every: "integer",
      enable_operations_logging: "boolean",
      error_monitor: ERROR_MONITOR_SCHEMA,
    },
  },
  service: {
    idling: "duration",
    heartbeat: "duration",
    max_errors: "integer",
    max_errors_span: "duration",
    max_concurrent_content_syncs: "integer",
    max_concurrent_access_control_syncs: "integer",
    max_concurrent_scheduling_tasks: "integer",
    max_file_download_size: "integer",
    job_cleanup_interval: "duration",
    idle_job_timeout: "duration",
    job_heartbeat_interval: "duration",
    job_check_interval: "duration",
    preflight_max_attempts: "integer",
    preflight_idle: "duration",
    progress_interval: "duration",
    log_level: "level",
    service_types: "strings",
    worker_mode: "boolean",
    allow_empty_full_sync: "boolean",
    max_deletion_ratio: "number",
  },
  connector_id: "string",
  service_type: "string",
  sources: "map",
};

/** Variables that override config values, and the key each one sets. */
export const ENV_OVERRIDES: Readonly<Record<string, string>> = {
  CONNECTORS_ES_HOST: "elasticsearch.host",
  CONNECTORS_ES_USERNAME: "elasticsearch.username",
  CONNECTORS_ES_PASSWORD: "elasticsearch.password",
  CONNECTORS_ES_API_KEY: "elasticsearch.api_key",
  CONNECTORS_ES_CA_CERTS: "elasticsearch.ca_certs",
};

const SECRET_KEYS = /(^|\.)(password|api_key)$/;
const PLACEHOLDER = "changeme";

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError) throw yamlError(file, firstError, lineCounter);
  const where = (node: YamlNode | undefined) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return "";
    const pos = lineCounter.linePos(offset);
    return `:${pos.line}:${pos.col}`;
  };
  const raw = doc.toJS() ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`${file}: the top level must be a mapping of keys`);
  }
  const tree = expandDottedKeys(raw as Record<string, unknown>, file);
  interpolate(tree, "", file, env);
  for (const [variable, keyPath] of Object.entries(ENV_OVERRIDES)) {
    const value = readEnv(env, variable, file);
    if (value !== undefined && value !== "") setPath(tree, keyPath, value);
  }
  const warnings: string[] = [];
  const nodeAt = (keyPath: string) => doc.getIn(keyPath.split("."), true) as YamlNode | undefined;
  const keyAt = (keyPath: string) => {
    const parts = keyPath.split(".");
    const parent = parts.length > 1 ? doc.getIn(parts.slice(0, -1), true) : doc.contents;
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === parts.at(-1));
    return pair?.key as YamlNode | undefined;
  };
  const checked = checkTree(
    tree,
    SCHEMA,
    "",
    file,
    warnings,
    (k, key) => where(key ? keyAt(k) : nodeAt(k)),
  );
  return build(checked, file, warnings, (k) => where(nodeAt(k)));
}

function yamlError(file: string, error: YAMLError, lines: LineCounter): ConfigError {
  const pos = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
  const reason = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+.*$/, "");
  return new ConfigError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${reason}`);
}

function readEnv(
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

function expandDottedKeys(tree: Record<string, unknown>, file: string): Record<string, unknown> {
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

function setPath(tree: Record<string, unknown>, path: string, value: unknown): void {
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

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^}]*))?\}|^\$([A-Za-z_][A-Za-z0-9_]*)$/g;

function interpolate(
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function checkTree(
  tree: Record<string, unknown>,
  schema: Schema,
  prefix: string,
  file: string,
  warnings: string[],
  where: (keyPath: string, key?: boolean) => string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (key === "connectors" && !prefix) {
      out[key] = value;
      continue;
    }
    const type = schema[key];
    if (type === undefined) {
      warnings.push(`${file}${where(path, true)}: unknown key ${path} is ignored`);
      continue;
    }
    if (value === null || value === undefined) continue; // an empty key means "use the default"
    if (typeof type === "object") {
      if (!isPlainObject(value)) {
        throw new ConfigError(
          `${file}${where(path)}: ${path} must be a mapping, got ${describe(value)}`,
        );
      }
      out[key] = checkTree(value, type, path, file, warnings, where);
      continue;
    }
    out[key] = checkValue(value, type, path, file + where(path));
  }
  return out;
}

function checkValue(value: unknown, type: FieldType, path: string, at: string): unknown {
  const fail = (expected: string) =>
    new ConfigError(`${at}: ${path} must be ${expected}, got ${describe(value)}`);
  switch (type) {
    case "string": {
      // YAML reads `password: 12345678` as a number: it is a string, and still a secret.
      const text = typeof value === "number" ? String(value) : value;
      if (typeof text !== "string") throw fail("a string");
      if (text.trim() === PLACEHOLDER) {
        throw new ConfigError(
          `${at}: ${path} is still the placeholder "${PLACEHOLDER}"; set a real value`,
        );
      }
      if (SECRET_KEYS.test(path)) registerSecret(text);
      return text;
    }
    case "boolean":
      if (typeof value !== "boolean") throw fail("true or false");
      return value;
    case "integer":
    case "number":
    case "duration": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isFinite(n)) {
        throw fail(type === "duration" ? "a number of seconds" : `a number`);
      }
      if (type === "integer" && !Number.isInteger(n)) throw fail("a whole number");
      if (n < 0) throw fail("zero or more");
      return n;
    }
    case "level": {
      const level = typeof value === "string" ? parseLogLevel(value) : undefined;
      if (!level) throw fail("one of DEBUG, INFO, WARNING, ERROR, CRITICAL");
      return level;
    }
    case "strings": {
      if (!Array.isArray(value)) throw fail("a list of strings");
      return value.map((item, i) => {
        if (typeof item !== "string") {
          throw new ConfigError(`${at}: ${path}[${i}] must be a string, got ${describe(item)}`);
        }
        return checkValue(item, "string", `${path}[${i}]`, at) as string;
      });
    }
    case "map": {
      if (!isPlainObject(value)) throw fail("a mapping");
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") {
          throw new ConfigError(`${at}: ${path}.${k} must be a string, got ${describe(v)}`);
        }
        if (v.trim() === PLACEHOLDER) {
          throw new ConfigError(`${at}: ${path}.${k} is still the placeholder "${PLACEHOLDER}"`);
        }
      }
      return value;
    }
  }
}

const CONNECTOR_KEYS = [
  "connector_id",
  "service_type",
  "api_key",
  "allow_empty_full_sync",
  "max_deletion_ratio",
];

function checkRatio(value: unknown, path: string, at: string): number {
  const n = checkValue(value, "number", path, at) as number;
  if (n > 1) throw new ConfigError(`${at}: ${path} must be between 0 and 1, got ${n}`);
  return n;
}

function checkConnectors(
  value: unknown,
  file: string,
  where: (keyPath: string) => string,
): ConnectorEntry[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new ConfigError(
      `${file}${where("connectors")}: connectors must be a list, got ${describe(value)}`,
    );
  }
  return value.map((entry, i) => {
    const path = `connectors[${i}]`;
    const at = `${file}${where(`connectors.${i}`)}`;
    if (!isPlainObject(entry)) {
      throw new ConfigError(`${at}: ${path} must be a mapping, got ${describe(entry)}`);
    }
    const out: ConnectorEntry = { connector_id: "" };
    for (const [key, v] of Object.entries(entry)) {
      if (!CONNECTOR_KEYS.includes(key)) {
        throw new ConfigError(
          `${at}: ${path}.${key} is not a connector setting (${CONNECTOR_KEYS.join(", ")})`,
        );
      }
      if (v === null || v === undefined) continue;
      if (key === "allow_empty_full_sync") {
        out.allow_empty_full_sync = checkValue(v, "boolean", `${path}.${key}`, at) as boolean;
        continue;
      }
      if (key === "max_deletion_ratio") {
        out.max_deletion_ratio = checkRatio(v, `${path}.${key}`, at);
        continue;
      }
      const s = checkValue(v, "string", `${path}.${key}`, at) as string;
      if (key === "api_key") registerSecret(s);
      (out as unknown as Record<string, string>)[key] = s;
    }
    if (!out.connector_id) throw new ConfigError(`${at}: ${path}.connector_id is required`);
    return out;
  });
}

function build(
  tree: Record<string, unknown>,
  file: string,
  warnings: string[],
  where: (keyPath: string) => string,
): Config {
  const es = (tree.elasticsearch ?? {}) as Record<string, unknown>;
  const bulk = (es.bulk ?? {}) as Record<string, unknown>;
  const monitor = (bulk.error_monitor ?? {}) as Record<string, unknown>;
  const svc = (tree.service ?? {}) as Record<string, unknown>;
  const pick = <T>(o: Record<string, unknown>, k: string, d: T): T => (o[k] ?? d) as T;

  const connectors = checkConnectors(tree.connectors, file, where);
  if (typeof tree.connector_id === "string") {
    if (connectors.some((c) => c.connector_id === tree.connector_id)) {
      warnings.push(`${file}: connector ${tree.connector_id} is listed twice`);
    } else {
      const single: ConnectorEntry = { connector_id: tree.connector_id };
      if (typeof tree.service_type === "string") single.service_type = tree.service_type;
      connectors.push(single);
    }
  } else if (tree.service_type !== undefined) {
    throw new ConfigError(
      `${file}${where("service_type")}: service_type needs connector_id beside it`,
    );
  }

  const elasticsearch: ElasticsearchConfig = {
    host: pick(es, "host", D.DEFAULT_ES_HOST),
    verify_certs: pick(es, "verify_certs", D.DEFAULT_VERIFY_CERTS),
    headers: pick(es, "headers", {}),
    request_timeout: pick(es, "request_timeout", D.DEFAULT_REQUEST_TIMEOUT),
    retry_on_timeout: pick(es, "retry_on_timeout", D.DEFAULT_RETRY_ON_TIMEOUT),
    max_retries: pick(es, "max_retries", D.DEFAULT_MAX_RETRIES),
    retry_interval: pick(es, "retry_interval", D.DEFAULT_RETRY_INTERVAL),
    max_wait_duration: pick(es, "max_wait_duration", D.DEFAULT_MAX_WAIT_DURATION),
    initial_backoff_duration: pick(
      es,
      "initial_backoff_duration",
      D.DEFAULT_INITIAL_BACKOFF_DURATION,
    ),
    backoff_multiplier: pick(es, "backoff_multiplier", D.DEFAULT_BACKOFF_MULTIPLIER),
    bulk: {
      queue_max_size: pick(bulk, "queue_max_size", D.DEFAULT_QUEUE_MAX_SIZE),
      queue_max_mem_size: pick(bulk, "queue_max_mem_size", D.DEFAULT_QUEUE_MAX_MEM_SIZE),
      queue_refresh_interval: pick(
        bulk,
        "queue_refresh_interval",
        D.DEFAULT_QUEUE_REFRESH_INTERVAL,
      ),
      queue_refresh_timeout: pick(bulk, "queue_refresh_timeout", D.DEFAULT_QUEUE_REFRESH_TIMEOUT),
      chunk_size: pick(bulk, "chunk_size", D.DEFAULT_CHUNK_SIZE),
      chunk_max_mem_size: pick(bulk, "chunk_max_mem_size", D.DEFAULT_CHUNK_MAX_MEM_SIZE),
      max_text_document_size: pick(
        bulk,
        "max_text_document_size",
        D.DEFAULT_MAX_TEXT_DOCUMENT_SIZE,
      ),
      max_concurrency: pick(bulk, "max_concurrency", D.DEFAULT_BULK_MAX_CONCURRENCY),
      concurrent_downloads: pick(bulk, "concurrent_downloads", D.DEFAULT_CONCURRENT_DOWNLOADS),
      max_retries: pick(bulk, "max_retries", D.DEFAULT_MAX_RETRIES),
      retry_interval: pick(bulk, "retry_interval", D.DEFAULT_RETRY_INTERVAL),
      display_every: pick(bulk, "display_every", D.DEFAULT_DISPLAY_EVERY),
      enable_operations_logging: pick(bulk, "enable_operations_logging", false),
      error_monitor: {
        enabled: pick(monitor, "enabled", D.DEFAULT_ERROR_MONITOR_ENABLED),
        max_total_errors: pick(monitor, "max_total_errors", D.DEFAULT_MAX_TOTAL_ERRORS),
        max_consecutive_errors: pick(
          monitor,
          "max_consecutive_errors",
          D.DEFAULT_MAX_CONSECUTIVE_ERRORS,
        ),
        max_error_rate: pick(monitor, "max_error_rate", D.DEFAULT_MAX_ERROR_RATE),
        error_window_size: pick(monitor, "error_window_size", D.DEFAULT_ERROR_WINDOW_SIZE),
        error_queue_size: pick(monitor, "error_queue_size", D.DEFAULT_ERROR_QUEUE_SIZE),
      },
    },
  };
  for (const key of ["username", "password", "api_key", "ca_certs"] as const) {
    if (typeof es[key] === "string") elasticsearch[key] = es[key] as string;
  }
  if (elasticsearch.password !== undefined && elasticsearch.username === undefined) {
    throw new ConfigError(
      `${file}${
        where("elasticsearch.password")
      }: elasticsearch.password needs elasticsearch.username`,
    );
  }
  if (!/^https?:\/\/[^\s/]+/.test(elasticsearch.host)) {
    throw new ConfigError(
      `${file}${
        where("elasticsearch.host")
      }: elasticsearch.host must be an http:// or https:// URL, got ${
        JSON.stringify(elasticsearch.host)
      }`,
    );
  }
  if (elasticsearch.bulk.max_concurrency < 1) {
    throw new ConfigError(
      `${file}${
        where("elasticsearch.bulk.max_concurrency")
      }: elasticsearch.bulk.max_concurrency must be 1 or more`,
    );
  }
  if (elasticsearch.bulk.chunk_size < 1) {
    throw new ConfigError(
      `${file}${
        where("elasticsearch.bulk.chunk_size")
      }: elasticsearch.bulk.chunk_size must be 1 or more`,
    );
  }

  const service: ServiceConfig = {
    idling: pick(svc, "idling", D.DEFAULT_IDLING),
    heartbeat: pick(svc, "heartbeat", D.DEFAULT_HEARTBEAT),
    max_errors: pick(svc, "max_errors", D.DEFAULT_MAX_ERRORS),
    max_errors_span: pick(svc, "max_errors_span", D.DEFAULT_MAX_ERRORS_SPAN),
    max_concurrent_content_syncs: pick(
      svc,
      "max_concurrent_content_syncs",
      D.DEFAULT_MAX_CONCURRENT_CONTENT_SYNCS,
    ),
    max_concurrent_access_control_syncs: pick(
      svc,
      "max_concurrent_access_control_syncs",
      D.DEFAULT_MAX_CONCURRENT_ACCESS_CONTROL_SYNCS,
    ),
    max_concurrent_scheduling_tasks: pick(
      svc,
      "max_concurrent_scheduling_tasks",
      D.DEFAULT_MAX_CONCURRENT_SCHEDULING_TASKS,
    ),
    max_file_download_size: pick(svc, "max_file_download_size", D.DEFAULT_MAX_FILE_DOWNLOAD_SIZE),
    job_cleanup_interval: pick(svc, "job_cleanup_interval", D.DEFAULT_JOB_CLEANUP_INTERVAL),
    idle_job_timeout: pick(svc, "idle_job_timeout", D.DEFAULT_IDLE_JOB_TIMEOUT),
    job_heartbeat_interval: pick(svc, "job_heartbeat_interval", D.DEFAULT_JOB_HEARTBEAT_INTERVAL),
    job_check_interval: pick(svc, "job_check_interval", D.DEFAULT_JOB_CHECK_INTERVAL),
    preflight_max_attempts: pick(svc, "preflight_max_attempts", D.DEFAULT_PREFLIGHT_MAX_ATTEMPTS),
    preflight_idle: pick(svc, "preflight_idle", D.DEFAULT_PREFLIGHT_IDLE),
    progress_interval: pick(svc, "progress_interval", D.DEFAULT_PROGRESS_INTERVAL),
    log_level: pick(svc, "log_level", D.DEFAULT_LOG_LEVEL as LogLevel),
    service_types: [...new Set(pick(svc, "service_types", D.DEFAULT_SERVICE_TYPES))],
    worker_mode: pick(svc, "worker_mode", D.DEFAULT_WORKER_MODE),
    allow_empty_full_sync: pick(svc, "allow_empty_full_sync", D.DEFAULT_ALLOW_EMPTY_FULL_SYNC),
    max_deletion_ratio: pick(svc, "max_deletion_ratio", D.DEFAULT_MAX_DELETION_RATIO),
  };
  if (service.max_deletion_ratio !== null) {
    checkRatio(
      service.max_deletion_ratio,
      "service.max_deletion_ratio",
      `${file}${where("service.max_deletion_ratio")}`,
    );
  }
  if (service.worker_mode && service.service_types.length === 0) {
    throw new ConfigError(
      `${file}${
        where("service.worker_mode")
      }: service.worker_mode is true but service.service_types is empty; list the service types to serve`,
    );
  }
  for (const key of ["max_concurrent_content_syncs", "max_concurrent_scheduling_tasks"] as const) {
    if (service[key] < 1) {
      throw new ConfigError(`${file}${where(`service.${key}`)}: service.${key} must be 1 or more`);
    }
  }

  const sources = { ...D.DEFAULT_SOURCES, ...(tree.sources as Record<string, string> | undefined) };
  for (const [type, fqn] of Object.entries(sources)) {
    if (!/^.+:[A-Za-z_$][\w$]*$/.test(fqn)) {
      throw new ConfigError(
        `${file}${where(`sources.${type}`)}: sources.${type} must be MODULE:ClassName, got ${
          JSON.stringify(fqn)
        }`,
      );
    }
  }
  return { file, elasticsearch, service, connectors, sources, warnings };
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
