/**
 * The shapes of the validated configuration (spec §6), apart from the loader so that modules
 * the loader uses can name them without an import cycle.
 *
 * @module
 */
import type { LogLevel } from "../log/mod.ts";

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
  /** File the password was read from (container secrets). */
  password_file?: string;
  /** Encoded (base64 of `id:secret`) or `id:secret`. */
  api_key?: string;
  /** File the API key was read from (container secrets). */
  api_key_file?: string;
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
  /** File that API key was read from. */
  api_key_file?: string;
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
  /**
   * service type → `MODULE:ClassName`. The grants of extended entries (`{module, net, read,
   * env, import, integrity}`) are attached to this map: `sourceGrantOf(config.sources, type)`.
   */
  sources: Record<string, string>;
  /** Warnings found while loading (unknown keys), for the caller to log. */
  warnings: string[];
}
