/**
 * Documents of the two system indices (spec §1-§3), typed field by field as Kibana and
 * Elastic's framework write them.
 *
 * @module
 */
import type { Filtering, SourceConfiguration } from "../source/types.ts";

/** Alias of the connectors index. */
export const CONNECTORS_INDEX = ".elastic-connectors";
/** Alias of the sync jobs index. */
export const JOBS_INDEX = ".elastic-connectors-sync-jobs";

/** Connector `status` values (spec §2.2). */
export const CONNECTOR_STATUSES = [
  "created",
  "needs_configuration",
  "configured",
  "connected",
  "error",
] as const;
/** One of {@linkcode CONNECTOR_STATUSES}. */
export type ConnectorStatus = typeof CONNECTOR_STATUSES[number];

/** Job `status` values (spec §3.1). */
export const JOB_STATUSES = [
  "pending",
  "in_progress",
  "canceling",
  "canceled",
  "suspended",
  "completed",
  "error",
] as const;
/** One of {@linkcode JOB_STATUSES}. */
export type JobStatus = typeof JOB_STATUSES[number];

/** Job statuses after which nothing changes. */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ["completed", "canceled", "error"];

/** Job types. */
export type JobType = "full" | "incremental" | "access_control";
/** How a job came to be. */
export type TriggerMethod = "on_demand" | "scheduled";

/** One schedule of a connector. */
export interface Schedule {
  enabled: boolean;
  /** Quartz cron expression. */
  interval: string;
}

/** Pipeline settings of a connector. */
export interface PipelineSettings {
  name: string;
  extract_binary_content: boolean;
  reduce_whitespace: boolean;
  run_ml_inference: boolean;
}

/** One `filtering` entry of a connector. */
export interface FilteringEntry {
  domain: string;
  active: Filtering;
  draft: Filtering;
}

/** The connector's `features`. */
export interface ConnectorFeatures {
  sync_rules?: { basic?: { enabled: boolean }; advanced?: { enabled: boolean } };
  document_level_security?: { enabled: boolean };
  incremental_sync?: { enabled: boolean };
  native_connector_api_keys?: { enabled: boolean };
  filtering_rules?: boolean;
  filtering_advanced_config?: boolean;
}

/** A `.elastic-connectors` document (spec §2). */
export interface ConnectorDoc {
  api_key_id?: string | null;
  api_key_secret_id?: string | null;
  configuration: SourceConfiguration | Record<string, never>;
  custom_scheduling?: Record<string, unknown>;
  description?: string | null;
  error: string | null;
  features: ConnectorFeatures | null;
  filtering: FilteringEntry[];
  index_name: string;
  is_native: boolean;
  language: string | null;
  last_access_control_sync_error: string | null;
  last_access_control_sync_scheduled_at: string | null;
  last_access_control_sync_status: JobStatus | null;
  last_deleted_document_count: number | null;
  last_incremental_sync_scheduled_at: string | null;
  last_indexed_document_count: number | null;
  last_seen: string | null;
  last_sync_error: string | null;
  last_sync_scheduled_at: string | null;
  last_sync_status: JobStatus | null;
  last_synced: string | null;
  name: string;
  pipeline: PipelineSettings | null;
  scheduling:
    & { full?: Schedule; incremental?: Schedule; access_control?: Schedule }
    & Partial<Schedule>;
  service_type: string | null;
  status: ConnectorStatus;
  sync_cursor: unknown;
  sync_now?: boolean;
  deleted?: boolean;
}

/** A connector as read: its id, document and optimistic-concurrency tokens. */
export interface Connector {
  id: string;
  doc: ConnectorDoc;
  seqNo: number;
  primaryTerm: number;
}

/** The connector snapshot a job carries (spec §3). */
export interface JobConnectorSnapshot {
  id: string;
  configuration: SourceConfiguration | Record<string, never>;
  filtering: Filtering | Filtering[] | null;
  index_name: string;
  language: string | null;
  pipeline: PipelineSettings | null;
  service_type: string | null;
  sync_cursor?: unknown;
}

/** A `.elastic-connectors-sync-jobs` document (spec §3). */
export interface SyncJobDoc {
  cancelation_requested_at: string | null;
  canceled_at: string | null;
  completed_at: string | null;
  connector: JobConnectorSnapshot;
  created_at: string;
  deleted_document_count: number;
  error: string | null;
  indexed_document_count: number;
  indexed_document_volume: number;
  job_type: JobType;
  last_seen: string | null;
  metadata: Record<string, unknown>;
  started_at: string | null;
  status: JobStatus;
  total_document_count: number | null;
  trigger_method: TriggerMethod;
  worker_hostname: string | null;
}

/** A job as read: id, document and optimistic-concurrency tokens. */
export interface SyncJob {
  id: string;
  doc: SyncJobDoc;
  seqNo: number;
  primaryTerm: number;
}

/** The two execution lanes: each connector runs at most one job per lane at a time (spec §3.2). */
export type SyncLane = "content" | "access_control";

/** Job types each lane runs. */
export const LANE_JOB_TYPES: Readonly<Record<SyncLane, readonly JobType[]>> = {
  content: ["full", "incremental"],
  access_control: ["access_control"],
};

/**
 * The lane a job type runs in.
 *
 * @example
 * ```ts
 * import { laneOf } from "./types.ts";
 * if (laneOf("incremental") !== "content") throw new Error();
 * ```
 */
export function laneOf(jobType: JobType): SyncLane {
  return jobType === "access_control" ? "access_control" : "content";
}

/** Prefix of the access-control index of a content index (spec §1). */
export const ACCESS_CONTROL_INDEX_PREFIX = ".search-acl-filter-";

/** Domain of the `filtering` entry the service uses. */
export const DEFAULT_FILTERING_DOMAIN = "DEFAULT";
