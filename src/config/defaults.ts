/**
 * Every configuration default, one named constant each, as Elastic's framework sets them
 * (spec §6). Durations are in seconds, sizes of the `bulk` section in MiB unless named `_BYTES`.
 *
 * @module
 */

/** Where the service looks for Elasticsearch when the config names no host. */
export const DEFAULT_ES_HOST = "http://localhost:9200";
/** Seconds a single Elasticsearch request may take. */
export const DEFAULT_REQUEST_TIMEOUT = 240;
/** Retry a request that timed out. */
export const DEFAULT_RETRY_ON_TIMEOUT = true;
/** Attempts of the non-bulk retrier on 429, 5xx and connection errors. */
export const DEFAULT_MAX_RETRIES = 5;
/** Seconds of the first retry wait; later waits grow exponentially with jitter. */
export const DEFAULT_RETRY_INTERVAL = 10;
/** Seconds the preflight waits for the cluster before giving up. */
export const DEFAULT_MAX_WAIT_DURATION = 240;
/** Seconds of the first preflight backoff step. */
export const DEFAULT_INITIAL_BACKOFF_DURATION = 1;
/** Growth factor of the preflight backoff. */
export const DEFAULT_BACKOFF_MULTIPLIER = 2;
/** Verify the server certificate. */
export const DEFAULT_VERIFY_CERTS = true;
/** Extra headers of every Elasticsearch request: none. */
export const DEFAULT_HEADERS: Readonly<Record<string, string>> = {};

/** Items the bulk queue holds before the producer waits. */
export const DEFAULT_QUEUE_MAX_SIZE = 1024;
/** MiB the bulk queue holds before the producer waits. */
export const DEFAULT_QUEUE_MAX_MEM_SIZE = 25;
/** Seconds between queue-full checks. */
export const DEFAULT_QUEUE_REFRESH_INTERVAL = 1;
/** Seconds a producer may wait on a full queue before the sync fails as "overloaded". */
export const DEFAULT_QUEUE_REFRESH_TIMEOUT = 1300;
/**
 * Bulk lines per request (index and update count two, delete one). Elastic's 500 is a quarter of
 * this: fewer, larger requests index faster (see bench/README.md).
 */
export const DEFAULT_CHUNK_SIZE = 2000;
/** MiB per bulk request. */
export const DEFAULT_CHUNK_MAX_MEM_SIZE = 3;
/** MiB cap of a text document without attachment (0 turns the cap off). */
export const DEFAULT_MAX_TEXT_DOCUMENT_SIZE = 3;
/** Bulk requests in flight at once (Elastic: 5; three larger ones keep memory lower). */
export const DEFAULT_BULK_MAX_CONCURRENCY = 3;
/** Lazy downloads in flight at once. */
export const DEFAULT_CONCURRENT_DOWNLOADS = 10;
/** Documents between progress log lines of the bulk sink. */
export const DEFAULT_DISPLAY_EVERY = 100;
/** Debug-log the id and operation of every document a sync sends. */
export const DEFAULT_ENABLE_OPERATIONS_LOGGING = false;
/** Seconds between progress log lines when not in a terminal. */
export const DEFAULT_PROGRESS_INTERVAL = 10;
/** Count per-item failures and fail the sync past the thresholds below. */
export const DEFAULT_ERROR_MONITOR_ENABLED = true;
/** Per-item failures a sync tolerates in total. */
export const DEFAULT_MAX_TOTAL_ERRORS = 1000;
/** Per-item failures a sync tolerates in a row. */
export const DEFAULT_MAX_CONSECUTIVE_ERRORS = 10;
/** Failure rate tolerated over the window below. */
export const DEFAULT_MAX_ERROR_RATE = 0.15;
/** Operations in the error-rate window. */
export const DEFAULT_ERROR_WINDOW_SIZE = 100;
/** Failing documents remembered for the job error message. */
export const DEFAULT_ERROR_QUEUE_SIZE = 10;

/** Seconds between polls of the scheduling and execution loops. */
export const DEFAULT_IDLING = 30;
/** Seconds between connector check-ins (`last_seen`). */
export const DEFAULT_HEARTBEAT = 300;
/** Loop errors tolerated within `max_errors_span` before the process exits. */
export const DEFAULT_MAX_ERRORS = 20;
/** Seconds after which the loop error counter resets. */
export const DEFAULT_MAX_ERRORS_SPAN = 600;
/** Content syncs in flight per process. */
export const DEFAULT_MAX_CONCURRENT_CONTENT_SYNCS = 1;
/** Access-control syncs in flight per process. */
export const DEFAULT_MAX_CONCURRENT_ACCESS_CONTROL_SYNCS = 1;
/** Connectors prepared and scheduled in parallel. */
export const DEFAULT_MAX_CONCURRENT_SCHEDULING_TASKS = 4;
/** Bytes a lazy download may fetch. */
export const DEFAULT_MAX_FILE_DOWNLOAD_SIZE = 10485760;
/** Seconds between stuck-job cleanups. */
export const DEFAULT_JOB_CLEANUP_INTERVAL = 300;
/** Seconds without a job heartbeat after which a running job is declared dead. */
export const DEFAULT_IDLE_JOB_TIMEOUT = 300;
/** Seconds between job heartbeats (counters and `last_seen`). */
export const DEFAULT_JOB_HEARTBEAT_INTERVAL = 10;
/** Seconds between checks for cancellation of a running job. */
export const DEFAULT_JOB_CHECK_INTERVAL = 5;
/** Preflight attempts to ensure the system indices. */
export const DEFAULT_PREFLIGHT_MAX_ATTEMPTS = 10;
/** Seconds between those attempts. */
export const DEFAULT_PREFLIGHT_IDLE = 30;
/** Service types whose every (non-native, not deleted) connector a process owns: none. */
export const DEFAULT_SERVICE_TYPES: readonly string[] = [];
/** Elastic's switch that makes `service.service_types` mandatory (it adds nothing else here). */
export const DEFAULT_WORKER_MODE = false;
/** A full sync whose source yields nothing leaves a non-empty index as it is and fails. */
export const DEFAULT_ALLOW_EMPTY_FULL_SYNC = false;
/** No limit on the fraction of an index one full sync may delete (opt-in guard). */
export const DEFAULT_MAX_DELETION_RATIO: number | null = null;
/** The connectors a process serves besides those of `service.service_types`: none. */
export const DEFAULT_CONNECTORS: readonly never[] = [];
/** Log level of the service. */
export const DEFAULT_LOG_LEVEL = "INFO";
/** The config file the CLI reads when `-c` is not given. */
export const DEFAULT_CONFIG_FILE = "config.yml";

/**
 * The sources shipped with the product, by service type. Paths are relative to the repository
 * root (resolved by the loader against this module's location, not the config file's).
 */
export const DEFAULT_SOURCES: Readonly<Record<string, string>> = {
  dir: "./sources/dir/mod.ts:DirectoryDataSource",
  mongodb: "./sources/mongodb/mod.ts:MongoDataSource",
  s3: "./sources/s3/mod.ts:S3DataSource",
};
