/**
 * The sync engine: moves a source's documents into the content index (spec §5).
 *
 * ```text
 *  source.getDocs(filtering)            source.getDocsIncrementally(cursor, filtering)
 *          │  doc | [doc, lazy]                   │  [doc, lazy, index|update|delete]
 *          ▼                                      ▼
 *  Extractor ── _id → string (MD5 past 512 B), id, control fields, sync rules (first match
 *     │         decides), _timestamp, job stamp; lazy downloads through a Limiter
 *     │         (concurrent_downloads); text cap; [incremental fallback: skip unchanged
 *     │         _timestamp, looked up per 500 docs, and only re-stamp them]
 *     ▼  BulkOperation (NDJSON lines, byte size)
 *  BoundedQueue ── queue_max_size items AND queue_max_mem_size MiB; a full queue blocks the
 *     │            producer (backpressure), for at most queue_refresh_timeout
 *     ▼
 *  BulkSink ── batches flushed BEFORE an op would cross chunk_size lines / chunk_max_mem_size
 *     │        MiB (or after 1 s idle); Limiter(max_concurrency) requests in flight; same-_id
 *     │        ops never race; per-item 429 retried with jittered backoff; item errors counted,
 *     │        logged once per type, fed to the ErrorMonitor (fails the job past its budget)
 *     ▼
 *  POST <index>/_bulk?pipeline=<name when it exists>   (client transport retries 429/5xx)
 *
 *  full sync, after the source ended:  refresh → point-in-time scan of docs whose
 *  _sync_job_id ≠ this job → bulk deletes through the same sink  (no id map in memory)
 *
 *  access-control sync: source.getAccessControl() → the same path as a full sync, into the
 *  job's .search-acl-filter-<index> (hidden; created when missing) without sync rules, control
 *  fields, pipeline or downloads
 * ```
 *
 * Memory is bounded by the queue, `max_concurrency` batches in flight, `concurrent_downloads`
 * downloads and one scan page; it does not grow with the number of documents. The only set that
 * grows is the ids of documents that failed to index in this job (bounded by the error budget),
 * whose previous version the full sync keeps.
 *
 * @example
 * ```ts
 * import { SyncRulesEngine } from "./mod.ts";
 * new SyncRulesEngine([]).shouldIngest({ id: "a" });
 * ```
 *
 * @module
 */
export { runContentSync } from "./content_sync.ts";
export { resolveFiltering } from "./filtering.ts";
export { DEFAULT_DELETION_GUARD, deletionProblem } from "./deletion_guard.ts";
export type { DeletionGuard, PlannedDeletion } from "./deletion_guard.ts";
export { mustSyncReason, syncInputsKey } from "./sync_inputs.ts";
export type { PreviousSync } from "./sync_inputs.ts";
export {
  ACCESS_CONTROL_INDEX_MAPPINGS,
  ACCESS_CONTROL_INDEX_SETTINGS,
  ensureAccessControlIndex,
  ensureContentIndex,
  pipelineExists,
} from "./content_index.ts";
export type { ContentIndexInfo } from "./content_index.ts";
export {
  ADVANCED_RULES_ID,
  DEFAULT_RULE_ID,
  SyncRulesEngine,
  validateFiltering,
} from "./sync_rules.ts";
export type { FilteringValidation, FilteringValidationError } from "./sync_rules.ts";
export {
  DEFAULT_PIPELINE,
  documentId,
  hashId,
  resolvePipelineSettings,
  SYNC_JOB_STAMP_FIELD,
} from "./document.ts";
export { TooManyErrorsError } from "./error_monitor.ts";
export { ElasticsearchOverloadedError } from "./bounded_queue.ts";
export * from "./types.ts";
