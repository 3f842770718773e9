/**
 * The contract between the job runner (protocol) and the sync engine: what a content sync
 * needs, what it reports while running and what it returns.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import type { BulkConfig } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { PipelineSettings, SyncJob } from "../protocol/types.ts";
import type { DataSource, DataSourceClass, Filtering } from "../source/types.ts";
import type { DeletionGuard } from "./deletion_guard.ts";
import type { PreviousSync } from "./sync_inputs.ts";

/** Live counters of a running sync; the runner reads them for every heartbeat. */
export interface SyncStats {
  /** Successful index and update operations. */
  indexed_document_count: number;
  /** Successful deletes. */
  deleted_document_count: number;
  /** Bytes of successfully indexed documents (reported in whole MiB). */
  indexed_document_volume_bytes: number;
  /** Per-item failures. */
  failed_document_count: number;
  /** Documents the source yielded (before rules). */
  yielded_document_count: number;
  /** Documents dropped by sync rules or caps. */
  skipped_document_count: number;
}

/** Everything a sync needs (content, or access control: `job.doc.job_type` decides). */
export interface ContentSyncRequest {
  /** The claimed job (its connector snapshot names index, pipeline, filtering, cursor). */
  job: SyncJob;
  /** The source instance, built from the job's configuration snapshot. */
  source: DataSource;
  /** Its class (features, static hooks). */
  sourceClass: DataSourceClass;
  /** Client for content writes (may carry the connector's own API key). */
  client: Client;
  /** `elasticsearch.bulk` settings. */
  bulk: BulkConfig;
  /** `service.max_file_download_size`. */
  maxFileSize: number;
  /** Logger carrying connector id, job id and service type. */
  logger: Logger;
  /** Aborted on cancel or shutdown; the sync stops promptly and throws the reason. */
  signal: AbortSignal;
  /** Counters updated in place while the sync runs. */
  stats: SyncStats;
  /**
   * The last completed sync of this connector and job type; without it the source's
   * `changed()` is not asked (the sync runs).
   */
  previousSync?: PreviousSync | undefined;
  /** The mass-deletion guard (default: empty full syncs refused, no ratio). */
  deletionGuard?: DeletionGuard;
}

/** What a finished content sync returns. */
export interface ContentSyncResult {
  /** Final counters. */
  stats: SyncStats;
  /** `_count` of the index after a refresh. */
  totalDocumentCount: number;
  /** Cursor to store on the connector when the job completes (undefined: leave as is). */
  syncCursor?: unknown;
}

/** The job's pipeline snapshot with Elastic's defaults filled. */
export type ResolvedPipeline = PipelineSettings;

/** The job's sync rules, normalised (array form of old jobs flattened). */
export type ResolvedFiltering = Filtering;

/**
 * A fresh counters object.
 *
 * @example
 * ```ts
 * import { emptyStats } from "./types.ts";
 * if (emptyStats().indexed_document_count !== 0) throw new Error();
 * ```
 */
export function emptyStats(): SyncStats {
  return {
    indexed_document_count: 0,
    deleted_document_count: 0,
    indexed_document_volume_bytes: 0,
    failed_document_count: 0,
    yielded_document_count: 0,
    skipped_document_count: 0,
  };
}
