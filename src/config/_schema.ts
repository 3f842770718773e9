/**
 * The one declarative schema of `config.yml`: each key written once, with its type, its
 * `DEFAULT_*` value, its bounds and a one-line doc. Validation (`_check.ts`), defaults
 * (`config.ts`) and the README table (`_readme.ts`) all come from {@linkcode CONFIG_KEYS}.
 *
 * @module
 */
import * as D from "./defaults.ts";

/** How a value is read and checked. */
export type FieldType =
  | "string"
  | "number"
  | "integer"
  | "duration"
  | "boolean"
  | "map"
  | "level"
  | "strings"
  | "entries";

/** One config key. */
export interface KeySpec {
  /** Dotted path, e.g. `elasticsearch.bulk.chunk_size`; `connectors[].KEY` inside an entry. */
  readonly path: string;
  readonly type: FieldType;
  /** The `DEFAULT_*` value; absent: the key is unset unless given. */
  readonly default?: unknown;
  /** What the README shows as default when it is not the value itself. */
  readonly defaultText?: string;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Exclusive lower bound: the value must be more than this. */
  readonly above?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
  /** `null` is a value of its own (e.g. "no limit"), not "use the default". */
  readonly nullable?: boolean;
  /** The value is registered for redaction. */
  readonly secret?: boolean;
  /** Required in its mapping (connector entries). */
  readonly required?: boolean;
  /** One line for the README. */
  readonly doc: string;
}

const ES = "elasticsearch";
const BULK = "elasticsearch.bulk";
const MONITOR = "elasticsearch.bulk.error_monitor";
const SVC = "service";
const ENTRY = "connectors[]";
const POSITIVE: Partial<KeySpec> = { above: 0 };
const NATURAL: Partial<KeySpec> = { min: 0 };
const ONE_UP: Partial<KeySpec> = { min: 1 };
const RATIO: Partial<KeySpec> = { min: 0, max: 1 };

function key(
  path: string,
  type: FieldType,
  value: unknown,
  doc: string,
  extra: Partial<KeySpec> = {},
): KeySpec {
  return { path, type, ...(value === undefined ? {} : { default: value }), doc, ...extra };
}

/**
 * Every key this service reads, in README order.
 *
 * @example
 * ```ts
 * import { CONFIG_KEYS } from "./_schema.ts";
 * const path = "elasticsearch.bulk.error_monitor.max_error_rate";
 * const rate = CONFIG_KEYS.find((k) => k.path === path);
 * if (rate?.max !== 1 || rate.default !== 0.15) throw new Error();
 * ```
 */
// deno-fmt-ignore
export const CONFIG_KEYS: readonly KeySpec[] = [
  key(`${ES}.host`, "string", D.DEFAULT_ES_HOST, "Cluster URL (http or https)."),
  key(`${ES}.username`, "string", undefined, "Basic auth user."),
  key(`${ES}.password`, "string", undefined,
    "Basic auth password (needs `username`).", { secret: true }),
  key(`${ES}.password_file`, "string", undefined,
    "File holding the password (container secrets; trailing newline trimmed)."),
  key(`${ES}.api_key`, "string", undefined,
    "API key, encoded or `id:secret` (wins over basic auth).", { secret: true }),
  key(`${ES}.api_key_file`, "string", undefined,
    "File holding the API key (container secrets; trailing newline trimmed)."),
  key(`${ES}.ca_certs`, "string", undefined, "PEM file of the CA to trust."),
  key(`${ES}.verify_certs`, "boolean", D.DEFAULT_VERIFY_CERTS, "Verify the server certificate."),
  key(`${ES}.headers`, "map", D.DEFAULT_HEADERS, "Extra request headers."),
  key(`${ES}.request_timeout`, "duration", D.DEFAULT_REQUEST_TIMEOUT,
    "Seconds per request.", POSITIVE),
  key(`${ES}.retry_on_timeout`, "boolean", D.DEFAULT_RETRY_ON_TIMEOUT,
    "Retry a request that timed out."),
  key(`${ES}.max_retries`, "integer", D.DEFAULT_MAX_RETRIES,
    "Retries on 429, 5xx and connection errors (jittered exponential backoff).", NATURAL),
  key(`${ES}.retry_interval`, "duration", D.DEFAULT_RETRY_INTERVAL,
    "Seconds of the first retry wait.", NATURAL),
  key(`${ES}.max_wait_duration`, "duration", D.DEFAULT_MAX_WAIT_DURATION,
    "Seconds the startup waits for the cluster.", NATURAL),
  key(`${ES}.initial_backoff_duration`, "duration", D.DEFAULT_INITIAL_BACKOFF_DURATION,
    "Seconds of the first startup wait step.", POSITIVE),
  key(`${ES}.backoff_multiplier`, "number", D.DEFAULT_BACKOFF_MULTIPLIER,
    "Growth factor of the startup wait steps.", ONE_UP),
  key(`${BULK}.queue_max_size`, "integer", D.DEFAULT_QUEUE_MAX_SIZE,
    "Items the queue between source and sink holds.", ONE_UP),
  key(`${BULK}.queue_max_mem_size`, "number", D.DEFAULT_QUEUE_MAX_MEM_SIZE,
    "MiB that queue holds.", POSITIVE),
  key(`${BULK}.queue_refresh_interval`, "duration", D.DEFAULT_QUEUE_REFRESH_INTERVAL,
    "Seconds between checks of a full queue.", POSITIVE),
  key(`${BULK}.queue_refresh_timeout`, "duration", D.DEFAULT_QUEUE_REFRESH_TIMEOUT,
    "Seconds a sync may wait on a full queue before it fails as overloaded.", POSITIVE),
  key(`${BULK}.chunk_size`, "integer", D.DEFAULT_CHUNK_SIZE,
    "Bulk request size in lines (index = 2, delete = 1); Elastic's 500 is slower.", ONE_UP),
  key(`${BULK}.chunk_max_mem_size`, "number", D.DEFAULT_CHUNK_MAX_MEM_SIZE,
    "MiB per bulk request.", POSITIVE),
  key(`${BULK}.max_text_document_size`, "number", D.DEFAULT_MAX_TEXT_DOCUMENT_SIZE,
    "MiB cap of a document without attachment (0 = off).", NATURAL),
  key(`${BULK}.max_concurrency`, "integer", D.DEFAULT_BULK_MAX_CONCURRENCY,
    "Bulk requests in flight (Elastic: 5).", ONE_UP),
  key(`${BULK}.concurrent_downloads`, "integer", D.DEFAULT_CONCURRENT_DOWNLOADS,
    "Lazy downloads in flight.", ONE_UP),
  key(`${BULK}.max_retries`, "integer", D.DEFAULT_MAX_RETRIES,
    "Retries of a bulk request and of its items rejected with 429.", NATURAL),
  key(`${BULK}.retry_interval`, "duration", D.DEFAULT_RETRY_INTERVAL,
    "Seconds of the first bulk retry wait.", NATURAL),
  key(`${BULK}.display_every`, "integer", D.DEFAULT_DISPLAY_EVERY,
    "Documents between progress lines of a sync.", ONE_UP),
  key(`${BULK}.enable_operations_logging`, "boolean", D.DEFAULT_ENABLE_OPERATIONS_LOGGING,
    "Debug-log the id and operation of each document."),
  key(`${MONITOR}.enabled`, "boolean", D.DEFAULT_ERROR_MONITOR_ENABLED,
    "Fail a sync past the per-item failure thresholds below."),
  key(`${MONITOR}.max_total_errors`, "integer", D.DEFAULT_MAX_TOTAL_ERRORS,
    "Per-item failures a sync tolerates in total.", NATURAL),
  key(`${MONITOR}.max_consecutive_errors`, "integer", D.DEFAULT_MAX_CONSECUTIVE_ERRORS,
    "Per-item failures a sync tolerates in a row.", NATURAL),
  key(`${MONITOR}.max_error_rate`, "number", D.DEFAULT_MAX_ERROR_RATE,
    "Failure rate tolerated over the window.", RATIO),
  key(`${MONITOR}.error_window_size`, "integer", D.DEFAULT_ERROR_WINDOW_SIZE,
    "Operations in the error-rate window (0 = no rate check).", NATURAL),
  key(`${MONITOR}.error_queue_size`, "integer", D.DEFAULT_ERROR_QUEUE_SIZE,
    "Failing document ids named in the job error.", ONE_UP),
  key(`${SVC}.idling`, "duration", D.DEFAULT_IDLING, "Seconds between polls.", POSITIVE),
  key(`${SVC}.heartbeat`, "duration", D.DEFAULT_HEARTBEAT,
    "Seconds between connector check-ins.", POSITIVE),
  key(`${SVC}.max_errors`, "integer", D.DEFAULT_MAX_ERRORS,
    "Loop errors tolerated within `max_errors_span` before the process exits.", NATURAL),
  key(`${SVC}.max_errors_span`, "duration", D.DEFAULT_MAX_ERRORS_SPAN,
    "Seconds after which the loop error count resets.", NATURAL),
  key(`${SVC}.max_concurrent_content_syncs`, "integer", D.DEFAULT_MAX_CONCURRENT_CONTENT_SYNCS,
    "Content jobs in flight per process.", ONE_UP),
  key(`${SVC}.max_concurrent_access_control_syncs`, "integer",
    D.DEFAULT_MAX_CONCURRENT_ACCESS_CONTROL_SYNCS,
    "Access-control jobs in flight per process.", ONE_UP),
  key(`${SVC}.max_concurrent_scheduling_tasks`, "integer",
    D.DEFAULT_MAX_CONCURRENT_SCHEDULING_TASKS,
    "Connectors prepared and scheduled in parallel.", ONE_UP),
  key(`${SVC}.max_file_download_size`, "integer", D.DEFAULT_MAX_FILE_DOWNLOAD_SIZE,
    "Bytes a lazy download may fetch.", NATURAL),
  key(`${SVC}.job_cleanup_interval`, "duration", D.DEFAULT_JOB_CLEANUP_INTERVAL,
    "Seconds between stuck-job cleanups.", POSITIVE),
  key(`${SVC}.idle_job_timeout`, "duration", D.DEFAULT_IDLE_JOB_TIMEOUT,
    "Seconds without a job heartbeat after which a running job is dead.", POSITIVE),
  key(`${SVC}.job_heartbeat_interval`, "duration", D.DEFAULT_JOB_HEARTBEAT_INTERVAL,
    "Seconds between job heartbeats (counters, `last_seen`).", POSITIVE),
  key(`${SVC}.job_check_interval`, "duration", D.DEFAULT_JOB_CHECK_INTERVAL,
    "Seconds between cancellation checks of a running job.", POSITIVE),
  key(`${SVC}.preflight_max_attempts`, "integer", D.DEFAULT_PREFLIGHT_MAX_ATTEMPTS,
    "Startup attempts to ensure the system indices.", ONE_UP),
  key(`${SVC}.preflight_idle`, "duration", D.DEFAULT_PREFLIGHT_IDLE,
    "Seconds between those attempts.", NATURAL),
  key(`${SVC}.progress_interval`, "duration", D.DEFAULT_PROGRESS_INTERVAL,
    "Seconds between progress lines without a terminal.", POSITIVE),
  key(`${SVC}.log_level`, "level", D.DEFAULT_LOG_LEVEL,
    "`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL` (`--log-level` wins)."),
  key(`${SVC}.service_types`, "strings", D.DEFAULT_SERVICE_TYPES,
    "Worker mode: also own every connector of these service types (see below)."),
  key(`${SVC}.worker_mode`, "boolean", D.DEFAULT_WORKER_MODE,
    "Elastic's switch; `true` only makes an empty `service.service_types` an error."),
  key(`${SVC}.allow_empty_full_sync`, "boolean", D.DEFAULT_ALLOW_EMPTY_FULL_SYNC,
    "Mass-deletion guard: `true` lets a full sync that yields nothing empty a non-empty index."),
  key(`${SVC}.max_deletion_ratio`, "number", D.DEFAULT_MAX_DELETION_RATIO,
    "Opt-in mass-deletion guard: the largest fraction of its documents a full sync may delete.",
    { ...RATIO, nullable: true }),
  key("connectors", "entries", D.DEFAULT_CONNECTORS,
    "The connectors this process serves, one mapping each (keys below)."),
  key(`${ENTRY}.connector_id`, "string", undefined,
    "Connector id, as Kibana shows it.", { required: true, defaultText: "required" }),
  key(`${ENTRY}.service_type`, "string", undefined, "Its service type: a key of `sources`."),
  key(`${ENTRY}.api_key`, "string", undefined,
    "API key of this connector's content writes (else the `elasticsearch` credentials).",
    { secret: true }),
  key(`${ENTRY}.api_key_file`, "string", undefined,
    "File holding that API key (trailing newline trimmed)."),
  key(`${ENTRY}.allow_empty_full_sync`, "boolean", undefined,
    "Overrides `service.allow_empty_full_sync` for this connector.", { defaultText: "service's" }),
  key(`${ENTRY}.max_deletion_ratio`, "number", undefined,
    "Overrides `service.max_deletion_ratio` for this connector (`null` = no limit).",
    { ...RATIO, nullable: true, defaultText: "service's" }),
  key("connector_id", "string", undefined,
    "Older single-connector form: a connector id, with `service_type` beside it."),
  key("service_type", "string", undefined, "Service type of that single connector."),
  key("sources", "map", D.DEFAULT_SOURCES,
    "Service type to `MODULE:ClassName` (a path, `file:`, `https:`, `npm:` or `jsr:` module).",
    { defaultText: "`dir`, `mongodb`, `s3`" }),
];

/**
 * Keys of Elastic's Python framework that this service does not implement: a warning each, not
 * an error (a whole mapping such as `extraction_service` counts as one key).
 *
 * @example
 * ```ts
 * import { ELASTIC_ONLY_KEYS } from "./_schema.ts";
 * if (!ELASTIC_ONLY_KEYS.includes("extraction_service")) throw new Error();
 * ```
 */
export const ELASTIC_ONLY_KEYS: readonly string[] = [
  "elasticsearch.ssl",
  "elasticsearch.log_level",
  "elasticsearch.feature_use_connectors_api",
  "service.fips_mode",
  "service.incremental_sync_interval_seconds",
  "service.trace_mem",
  "extraction_service",
  "native_service_types",
  "_force_allow_native",
];

/**
 * Older Elastic key names and the key that replaced them: an error suggesting the new name.
 *
 * @example
 * ```ts
 * import { RENAMED_KEYS } from "./_schema.ts";
 * const renamed = RENAMED_KEYS["elasticsearch.bulk_chunk_size"];
 * if (renamed !== "elasticsearch.bulk.chunk_size") throw new Error();
 * ```
 */
export const RENAMED_KEYS: Readonly<Record<string, string>> = {
  "elasticsearch.bulk_queue_max_size": "elasticsearch.bulk.queue_max_size",
  "elasticsearch.bulk_queue_max_mem_size": "elasticsearch.bulk.queue_max_mem_size",
  "elasticsearch.bulk_display_every": "elasticsearch.bulk.display_every",
  "elasticsearch.bulk_chunk_size": "elasticsearch.bulk.chunk_size",
  "elasticsearch.bulk_chunk_max_mem_size": "elasticsearch.bulk.chunk_max_mem_size",
  "service.max_concurrent_syncs": "service.max_concurrent_content_syncs",
};

const BY_PATH = new Map(CONFIG_KEYS.map((spec) => [spec.path, spec]));

/**
 * The spec of a dotted path, if it is a key.
 *
 * @example
 * ```ts
 * import { keySpec } from "./_schema.ts";
 * if (keySpec("service.idling")?.type !== "duration") throw new Error();
 * if (keySpec("service") !== undefined) throw new Error();
 * ```
 */
export function keySpec(path: string): KeySpec | undefined {
  return BY_PATH.get(path);
}

/**
 * The names allowed directly under `prefix` ("" for the top level): keys and sections.
 *
 * @example
 * ```ts
 * import { childNames } from "./_schema.ts";
 * if (!childNames("elasticsearch").includes("bulk")) throw new Error();
 * if (!childNames("connectors[]").includes("api_key")) throw new Error();
 * ```
 */
export function childNames(prefix: string): string[] {
  const start = prefix ? `${prefix}.` : "";
  const names = new Set<string>();
  for (const { path } of CONFIG_KEYS) {
    if (!path.startsWith(start)) continue;
    const name = path.slice(start.length).split(".")[0]!;
    if (!name.endsWith("[]")) names.add(name);
  }
  return [...names];
}
