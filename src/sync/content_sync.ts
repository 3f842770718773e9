/**
 * A sync job's data path (spec §5): a content sync (full or incremental) from a source into the
 * content index, or an access-control sync (§5.4, §5.6) of the source's `getAccessControl()`
 * documents into `.search-acl-filter-<index>`, which runs as a full sync without sync rules,
 * pipeline or downloads. The data path is drawn in `mod.ts`; this module wires its stages
 * together.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import { errorMessage, FatalError, statusOf } from "../errors/mod.ts";
import { createLimiter, forEachItem, type Limiter, raceSignal } from "../async/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { JobConnectorSnapshot, PipelineSettings } from "../protocol/types.ts";
import { ACCESS_CONTROL_INDEX_PREFIX } from "../protocol/types.ts";
import { DEFAULT_SOURCE_FEATURES, splitDocItem, splitIncrementalItem } from "../source/mod.ts";
import type {
  DataSource,
  Document,
  Filtering,
  LazyDownload,
  SourceFeatures,
  SyncOperation,
} from "../source/mod.ts";
import { BoundedQueue } from "./bounded_queue.ts";
import {
  type BulkOperation,
  BulkSink,
  deleteOperation,
  indexOperation,
  MIB,
  stampOperation,
  updateOperation,
} from "./bulk_sink.ts";
import { ensureAccessControlIndex, ensureContentIndex, pipelineExists } from "./content_index.ts";
import {
  documentId,
  resolvePipelineSettings,
  serializeBody,
  SYNC_JOB_STAMP_FIELD,
} from "./document.ts";
import { DEFAULT_DELETION_GUARD, deletionProblem } from "./deletion_guard.ts";
import { ErrorMonitor } from "./error_monitor.ts";
import { resolveFiltering } from "./filtering.ts";
import { scanStaleDocuments } from "./stale_documents.ts";
import { mustSyncReason } from "./sync_inputs.ts";
import { SyncRulesEngine, validateFiltering } from "./sync_rules.ts";
import type { ContentSyncRequest, ContentSyncResult, SyncStats } from "./types.ts";

/** Documents looked up at once for the timestamp-skip fallback of incremental syncs. */
export const DEFAULT_TIMESTAMP_LOOKUP_BATCH = 500;
/** Seconds between two progress log lines. */
export const DEFAULT_SYNC_PROGRESS_INTERVAL = 10;

/** Index name (or alias) of a content job, checked. */
function indexNameOf(connector: JobConnectorSnapshot): string {
  const name = connector?.index_name;
  if (typeof name !== "string" || name === "") {
    throw new FatalError(`Cannot run a sync for connector ${connector?.id}: it has no index_name`);
  }
  return name;
}

/** Counts documents of an index (0 when it does not exist). */
async function countDocuments(
  client: Client,
  index: string,
  signal: AbortSignal,
  refresh = true,
): Promise<number> {
  try {
    if (refresh) await client.indices.refresh({ index }, { signal });
    return (await client.count({ index }, { signal })).count;
  } catch (error) {
    if (statusOf(error) === 404) return 0;
    throw error;
  }
}

/** Counts documents of an index after a refresh; undefined when the index does not exist. */
async function countExisting(
  client: Client,
  index: string,
  signal: AbortSignal,
): Promise<number | undefined> {
  try {
    await client.indices.refresh({ index }, { signal });
    return (await client.count({ index }, { signal })).count;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** One document on its way from the source to the queue. */
interface PendingDoc {
  id: string;
  body: Record<string, unknown>;
  lazy: LazyDownload | undefined;
  op: Exclude<SyncOperation, "delete">;
  /** The source gave `_timestamp` itself (the fallback only skips those). */
  sourceTimestamp: boolean;
}

/** Everything the producer needs; one per sync. */
class Extractor {
  readonly #queue: BoundedQueue<BulkOperation>;
  readonly #downloads: Limiter;
  readonly #pendingDownloads = new Map<string, Promise<void>>();
  readonly #rules: SyncRulesEngine | undefined;
  readonly #pipeline: PipelineSettings | null;
  readonly #extract: boolean;
  readonly #maxTextBytes: number;
  readonly #lastProgress = { at: Date.now() };

  constructor(
    readonly ctx: {
      req: ContentSyncRequest;
      stats: SyncStats;
      logger: Logger;
      signal: AbortSignal;
      index: string;
      queue: BoundedQueue<BulkOperation>;
      rules: SyncRulesEngine | undefined;
      /** Settings whose control fields go into each document; null: none (access control). */
      pipeline: PipelineSettings | null;
      extract: boolean;
      monitor: ErrorMonitor;
      /** Ids whose previous version must survive the stale scan (failed re-index). */
      keep: Set<string>;
    },
  ) {
    this.#queue = ctx.queue;
    this.#downloads = createLimiter(Math.max(1, ctx.req.bulk.concurrent_downloads), ctx.signal);
    this.#rules = ctx.rules;
    this.#pipeline = ctx.pipeline;
    this.#extract = ctx.extract;
    this.#maxTextBytes = Math.max(0, ctx.req.bulk.max_text_document_size) * MIB;
  }

  /** Waits for the downloads still running; rethrows the first failure. */
  drain(): Promise<void> {
    return this.#downloads.drain();
  }

  progress(force = false): void {
    const now = Date.now();
    if (!force && now - this.#lastProgress.at < DEFAULT_SYNC_PROGRESS_INTERVAL * 1000) return;
    this.#lastProgress.at = now;
    const s = this.ctx.stats;
    this.ctx.logger.info(
      `Sync progress -- yielded: ${s.yielded_document_count} | indexed: ${s.indexed_document_count} | deleted: ${s.deleted_document_count} | skipped: ${s.skipped_document_count} | failed: ${s.failed_document_count}`,
    );
  }

  /** Turns a yielded document into a pending doc, or undefined when it is dropped. */
  shape(
    doc: Document,
    lazy: LazyDownload | undefined,
    op: Exclude<SyncOperation, "delete">,
  ): PendingDoc | undefined {
    const { stats, logger, req } = this.ctx;
    if (stats.yielded_document_count % req.bulk.display_every === 0) this.progress();
    const id = documentId(doc._id);
    if (id === undefined) {
      stats.skipped_document_count++;
      logger.warning("Skipping a document without _id");
      return undefined;
    }
    // Shaped in place, as Elastic's framework does (a yielded document belongs to the sync); a
    // frozen or sealed one is copied. `_id` becomes undefined, which JSON.stringify leaves out.
    const body: Record<string, unknown> = Object.isExtensible(doc) ? doc : { ...doc };
    body._id = undefined;
    body.id = id;
    if (this.#pipeline) {
      body._extract_binary_content = this.#pipeline.extract_binary_content;
      body._reduce_whitespace = this.#pipeline.reduce_whitespace;
      body._run_ml_inference = this.#pipeline.run_ml_inference;
    }
    if (this.#rules && !this.#rules.shouldIngest(body)) {
      stats.skipped_document_count++;
      return undefined;
    }
    const sourceTimestamp = typeof body._timestamp === "string";
    if (body._timestamp === undefined || body._timestamp === null) {
      body._timestamp = new Date().toISOString();
    }
    body[SYNC_JOB_STAMP_FIELD] = req.job.id;
    return { id, body, lazy, op, sourceTimestamp };
  }

  /** Queues a delete (after a pending download of the same id). */
  delete(doc: Document): Promise<void> | undefined {
    const id = documentId(doc._id);
    if (id === undefined) {
      this.ctx.stats.skipped_document_count++;
      this.ctx.logger.warning("Skipping a delete without _id");
      return undefined;
    }
    const pending = this.#pendingDownloads.get(id);
    if (pending) return pending.then(() => this.put(deleteOperation(id)));
    return this.put(deleteOperation(id));
  }

  /** Queues a stamp-only update for an unchanged document (cancelling its download). */
  async stamp(doc: PendingDoc): Promise<void> {
    if (this.#extract && doc.lazy) {
      await doc.lazy(false).catch(() => {});
    }
    const pending = this.#pendingDownloads.get(doc.id);
    if (pending) await pending;
    await this.put(stampOperation(doc.id, this.ctx.req.job.id));
  }

  /**
   * Queues the document, downloading its content first when extraction is on. Returns a promise
   * only when the caller must wait (a full queue, a download slot, an earlier download of the
   * same id), so that the common path allocates nothing.
   */
  emit(doc: PendingDoc): Promise<void> | undefined {
    const pending = this.#pendingDownloads.size > 0
      ? this.#pendingDownloads.get(doc.id)
      : undefined;
    if (pending) return pending.then(() => this.emit(doc));
    if (!this.#extract || !doc.lazy) return this.#enqueue(doc);
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    this.#pendingDownloads.set(doc.id, done);
    return this.#downloads.spawn(async () => {
      try {
        if (await this.#download(doc)) await this.#enqueue(doc);
      } finally {
        if (this.#pendingDownloads.get(doc.id) === done) this.#pendingDownloads.delete(doc.id);
        finished();
      }
    }).catch((error) => {
      if (this.#pendingDownloads.get(doc.id) === done) this.#pendingDownloads.delete(doc.id);
      finished();
      throw error;
    });
  }

  /** Runs a lazy download and merges its fields; false when the document is dropped. */
  async #download(doc: PendingDoc): Promise<boolean> {
    const { stats, logger, monitor, keep, req } = this.ctx;
    let data: Record<string, unknown> | null | undefined;
    try {
      data = await doc.lazy!(true, doc.body._timestamp as string);
    } catch (error) {
      if (this.ctx.signal.aborted) throw this.ctx.signal.reason;
      // As Elastic: a failed download drops the document; only an explicit FatalError stops the job.
      if (error instanceof FatalError) throw error;
      stats.failed_document_count++;
      keep.add(doc.id);
      const message = `Failed to download the content of document ${doc.id}: ${
        errorMessage(error)
      }`;
      logger.error(message);
      monitor.trackError(doc.id, message);
      return false;
    }
    if (data) {
      for (const key in data) {
        if (key !== "_id" && key !== "_timestamp") doc.body[key] = data[key];
      }
    }
    delete doc.body._original_filename;
    const attachment = doc.body._attachment;
    if (typeof attachment === "string" && Math.floor(attachment.length * 3 / 4) > req.maxFileSize) {
      logger.warning(
        `Dropping the content of document ${doc.id}: larger than service.max_file_download_size (${req.maxFileSize} bytes)`,
      );
      delete doc.body._attachment;
    }
    return true;
  }

  #enqueue(doc: PendingDoc): Promise<void> | undefined {
    const { stats, logger, keep } = this.ctx;
    const json = serializeBody(doc.body);
    const op = doc.op === "update" ? updateOperation(doc.id, json) : indexOperation(doc.id, json);
    if (this.#maxTextBytes > 0 && op.bytes > this.#maxTextBytes && !("_attachment" in doc.body)) {
      stats.skipped_document_count++;
      keep.add(doc.id);
      logger.warning(
        `Dropping document ${doc.id}: its serialized size ${op.bytes} bytes exceeds elasticsearch.bulk.max_text_document_size (${this.#maxTextBytes} bytes)`,
      );
      return undefined;
    }
    return this.put(op);
  }

  /** Adds an operation to the queue; a promise only when the queue is full. */
  put(op: BulkOperation): Promise<void> | undefined {
    if (this.#queue.tryPut(op, op.bytes)) return undefined;
    return this.#queue.put(op, op.bytes);
  }
}

/** Runs the producer side for a full sync (or the incremental timestamp fallback). */
async function produceFull(
  extractor: Extractor,
  source: DataSource,
  filtering: Filtering,
  skipUnchanged: boolean,
): Promise<void> {
  const { stats, signal, req, index } = extractor.ctx;
  let lookup: PendingDoc[] = [];
  const flushLookup = async () => {
    if (lookup.length === 0) return;
    const docs = lookup;
    lookup = [];
    const ids = docs.filter((d) => d.sourceTimestamp).map((d) => d.id);
    const stored = new Map<string, unknown>();
    if (ids.length > 0) {
      const found = await req.client.search({
        index,
        size: ids.length,
        query: { ids: { values: ids } },
        _source: ["_timestamp"],
      }, { signal });
      for (const hit of found.hits.hits) {
        stored.set(hit._id!, (hit._source as { _timestamp?: unknown } | undefined)?._timestamp);
      }
    }
    for (const doc of docs) {
      if (doc.sourceTimestamp && stored.get(doc.id) === doc.body._timestamp) {
        await extractor.stamp(doc);
      } else {
        await extractor.emit(doc);
      }
    }
  };
  await forEachItem(source.getDocs(filtering), signal, (item) => {
    stats.yielded_document_count++;
    const [doc, lazy] = splitDocItem(item);
    const pending = extractor.shape(doc, lazy, "index");
    if (!pending) return undefined;
    if (!skipUnchanged) return extractor.emit(pending);
    lookup.push(pending);
    return lookup.length >= DEFAULT_TIMESTAMP_LOOKUP_BATCH ? flushLookup() : undefined;
  });
  await flushLookup();
  await extractor.drain();
}

/** Runs the producer side for an access-control sync: every user document, indexed. */
async function produceAccessControl(extractor: Extractor, source: DataSource): Promise<void> {
  const { stats, signal } = extractor.ctx;
  await forEachItem(source.getAccessControl!(), signal, (doc) => {
    stats.yielded_document_count++;
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new TypeError(
        `getAccessControl() yielded ${
          Array.isArray(doc) ? "an array" : typeof doc
        } instead of an access-control document`,
      );
    }
    const pending = extractor.shape(doc, undefined, "index");
    return pending ? extractor.emit(pending) : undefined;
  });
}

/** Runs the producer side for a source-driven incremental sync. */
async function produceIncremental(
  extractor: Extractor,
  source: DataSource,
  cursor: unknown,
  filtering: Filtering,
): Promise<void> {
  const { stats, signal } = extractor.ctx;
  await forEachItem(source.getDocsIncrementally!(cursor, filtering), signal, (item) => {
    stats.yielded_document_count++;
    const [doc, lazy, op] = splitIncrementalItem(item);
    if (op === "delete") return extractor.delete(doc);
    const pending = extractor.shape(doc, lazy, op);
    return pending ? extractor.emit(pending) : undefined;
  });
  await extractor.drain();
}

/**
 * Runs a sync job (spec §5): `full` indexes everything the source yields and then deletes what it
 * did not write; `incremental` applies the source's operations since the stored cursor (or, for
 * sources without `getDocsIncrementally`, a full pass that skips documents whose `_timestamp`
 * did not change); `access_control` is a full sync of `getAccessControl()` into the job's
 * `.search-acl-filter-<index>` (created hidden when missing), without `changed()`, sync rules,
 * ingest pipeline or downloads, and returns no cursor. `req.stats` is updated in place as items
 * succeed. On abort the sync stops promptly and throws the signal's reason.
 *
 * @example
 * ```ts ignore
 * const result = await runContentSync({ job, source, sourceClass, client, bulk,
 *   maxFileSize, logger, signal, stats: emptyStats() });
 * ```
 */
export async function runContentSync(req: ContentSyncRequest): Promise<ContentSyncResult> {
  req.signal.throwIfAborted();
  const controller = new AbortController();
  const forward = () => controller.abort(req.signal.reason);
  req.signal.addEventListener("abort", forward, { once: true });
  try {
    return await syncContent(req, controller);
  } catch (error) {
    if (req.signal.aborted) throw req.signal.reason;
    throw error;
  } finally {
    req.signal.removeEventListener("abort", forward);
    if (!controller.signal.aborted) controller.abort(new Error("sync finished"));
  }
}

/** How the documents of a job are shaped and where they go. */
interface SyncPlan {
  rules: SyncRulesEngine | undefined;
  filtering: Filtering;
  /** Control fields for each document; null for access-control documents. */
  pipeline: PipelineSettings | null;
  /** `pipeline=` of the bulk requests; undefined: none. */
  pipelineName: string | undefined;
  extract: boolean;
  /** Documents the index held when the sync started (for the mass-deletion guard). */
  heldAtStart: number;
}

/**
 * Checks an access-control job and prepares its index. A job whose index is not an ACL index is
 * refused: its full-sync deletes would empty a content index.
 */
async function planAccessControl(req: ContentSyncRequest, index: string): Promise<SyncPlan> {
  const connector = req.job.doc.connector;
  if (!index.startsWith(ACCESS_CONTROL_INDEX_PREFIX)) {
    throw new FatalError(
      `Cannot run access-control sync of connector ${connector.id}: its index ${index} does not start with ${ACCESS_CONTROL_INDEX_PREFIX}`,
    );
  }
  if (typeof req.source.getAccessControl !== "function") {
    throw new FatalError(
      `Cannot run access-control sync of connector ${connector.id}: service type ${connector.service_type} has no getAccessControl()`,
    );
  }
  await ensureAccessControlIndex(req.client, index, req.logger);
  return {
    rules: undefined,
    filtering: resolveFiltering(null),
    pipeline: null,
    pipelineName: undefined,
    extract: false,
    heldAtStart: await countDocuments(req.client, index, req.signal),
  };
}

/**
 * Checks a content job (incremental support, sync rules) and prepares its index and pipeline;
 * undefined when the source's `changed()` says there is nothing to do and nothing else changed
 * since the last completed sync (see `sync_inputs.ts`). Invalid rules fail the job either way.
 */
async function planContent(
  req: ContentSyncRequest,
  index: string,
  signal: AbortSignal,
): Promise<SyncPlan | undefined> {
  const { job, source, sourceClass, client, logger } = req;
  const connector = job.doc.connector;
  const features: SourceFeatures = { ...DEFAULT_SOURCE_FEATURES, ...(sourceClass.features ?? {}) };
  if (job.doc.job_type === "incremental" && !features.incrementalSync) {
    throw new FatalError(`Connector ${connector.id} does not support incremental sync.`);
  }
  const filtering = resolveFiltering(connector.filtering);
  if (features.basicRules || features.advancedRules) {
    const validation = await validateFiltering(filtering, source);
    if (validation.state !== "valid") {
      throw new FatalError(
        `Filtering in state ${validation.state}, errors: ${
          validation.errors.map((e) =>
            `(ids: ${e.ids.join(", ")}, messages: ${e.messages.join("; ")})`
          )
            .join(", ")
        }.`,
      );
    }
  }
  const rules = features.basicRules ? new SyncRulesEngine(filtering.rules) : undefined;

  const countBefore = await countExisting(client, index, signal);
  if (source.changed) {
    const reason = mustSyncReason(connector, req.previousSync, countBefore);
    if (reason !== undefined) {
      logger.debug(`Not asking the source whether it changed: ${reason}`);
    } else if (!(await raceSignal(source.changed(), signal))) {
      logger.info("No change in remote source, skipping sync");
      return undefined;
    }
  }

  await ensureContentIndex(client, index, logger);
  const pipeline = resolvePipelineSettings(connector.pipeline);
  let pipelineName: string | undefined = pipeline.name;
  if (!(await pipelineExists(client, pipeline.name))) {
    logger.warning(
      `Ingest pipeline ${pipeline.name} does not exist: indexing into ${index} without a pipeline`,
    );
    pipelineName = undefined;
  }
  const textExtractionService = (connector.configuration as Record<string, { value?: unknown }>)
    ?.use_text_extraction_service?.value === true;
  const extract = pipeline.extract_binary_content || textExtractionService;
  return { rules, filtering, pipeline, pipelineName, extract, heldAtStart: countBefore ?? 0 };
}

async function syncContent(
  req: ContentSyncRequest,
  controller: AbortController,
): Promise<ContentSyncResult> {
  const { job, source, client, logger, stats } = req;
  const signal = controller.signal;
  const connector = job.doc.connector;
  const jobType = job.doc.job_type ?? "full";
  if (jobType !== "full" && jobType !== "incremental" && jobType !== "access_control") {
    throw new FatalError(`Cannot run job ${job.id}: unknown job type ${jobType}`);
  }
  const index = indexNameOf(connector);
  const accessControl = jobType === "access_control";
  // The cursor belongs to content syncs; an access-control sync never moves it.
  const cursorOf = () => (!accessControl && source.syncCursor ? source.syncCursor() : undefined);

  const plan = accessControl
    ? await planAccessControl(req, index)
    : await planContent(req, index, signal);
  if (!plan) {
    const result: ContentSyncResult = {
      stats,
      totalDocumentCount: await countDocuments(client, index, signal),
    };
    const cursor = cursorOf();
    if (cursor !== undefined) result.syncCursor = cursor;
    return result;
  }
  const { rules, filtering, pipeline, pipelineName, extract } = plan;

  const monitor = new ErrorMonitor(req.bulk.error_monitor);
  const keep = new Set<string>();
  const sink = new BulkSink({
    client,
    index,
    pipeline: pipelineName,
    bulk: req.bulk,
    stats,
    monitor,
    logger,
    signal,
    onItemFailure: (op) => keep.add(op.id),
  });
  const newQueue = () =>
    new BoundedQueue<BulkOperation>({
      maxItems: Math.max(1, req.bulk.queue_max_size),
      maxBytes: Math.max(1, req.bulk.queue_max_mem_size * MIB),
      putTimeoutMs: req.bulk.queue_refresh_timeout * 1000,
      signal,
    });

  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    if (!failure) failure = { error };
    if (!controller.signal.aborted) controller.abort(error);
  };
  /** Runs `produce` into a fresh queue drained by the sink; throws the first failure of either. */
  const pump = async (produce: (queue: BoundedQueue<BulkOperation>) => Promise<void>) => {
    const queue = newQueue();
    const sinking = sink.run(queue).catch((error) => fail(error));
    try {
      await produce(queue);
      queue.close();
    } catch (error) {
      fail(error);
    }
    await sinking;
    if (failure) throw failure.error;
  };

  const incremental = jobType === "incremental";
  const sourceDriven = incremental && typeof source.getDocsIncrementally === "function";
  logger.info(
    `Executing ${jobType} sync into ${index}${
      incremental && !sourceDriven ? " (skipping documents with an unchanged _timestamp)" : ""
    }`,
  );
  let extractor: Extractor | undefined;
  await pump(async (queue) => {
    extractor = new Extractor({
      req,
      stats,
      logger,
      signal,
      index,
      queue,
      rules,
      pipeline,
      extract,
      monitor,
      keep,
    });
    if (accessControl) {
      await produceAccessControl(extractor, source);
    } else if (sourceDriven) {
      await produceIncremental(extractor, source, connector.sync_cursor ?? null, filtering);
    } else {
      await produceFull(extractor, source, filtering, incremental);
    }
  });

  // A full pass ends with a refresh; without deletes after it, _count needs no second one.
  const refreshed = !sourceDriven &&
    (await deleteStale(req, index, sink, keep, signal, pump, plan.heldAtStart)) === 0;

  extractor?.progress(true);
  const result: ContentSyncResult = {
    stats,
    totalDocumentCount: await countDocuments(client, index, signal, !refreshed),
  };
  const cursor = cursorOf();
  if (cursor !== undefined) result.syncCursor = cursor;
  return result;
}

/**
 * Deletes every document of the index this job did not write (spec §5.4 full sync), unless the
 * mass-deletion guard refuses (then nothing is deleted and the job fails); returns the number
 * of deletes sent.
 */
async function deleteStale(
  req: ContentSyncRequest,
  index: string,
  sink: BulkSink,
  keep: Set<string>,
  signal: AbortSignal,
  pump: (produce: (queue: BoundedQueue<BulkOperation>) => Promise<void>) => Promise<void>,
  heldAtStart: number,
): Promise<number> {
  const { client, logger, job } = req;
  await client.indices.refresh({ index }, { signal });
  const stale = await client.count({
    index,
    query: { bool: { must_not: { term: { [SYNC_JOB_STAMP_FIELD]: job.id } } } },
  }, { signal });
  const problem = deletionProblem({
    connectorId: job.doc.connector.id,
    index,
    yielded: req.stats.yielded_document_count,
    heldAtStart,
    // Documents that failed to re-index keep their previous version.
    deletions: Math.max(0, stale.count - keep.size),
  }, req.deletionGuard ?? DEFAULT_DELETION_GUARD);
  if (problem) throw new FatalError(problem);
  // Before the first delete: if a pipeline stripped the stamp, everything would look stale.
  const checkStamps = async () => {
    if (sink.writtenCount === 0) return;
    const stamped = await client.count({
      index,
      query: { term: { [SYNC_JOB_STAMP_FIELD]: job.id } },
    }, { signal });
    if (stamped.count === 0) {
      throw new FatalError(
        `Cannot delete stale documents from ${index}: none of the ${sink.writtenCount} documents this job wrote carries ${SYNC_JOB_STAMP_FIELD}; does the ingest pipeline remove it?`,
      );
    }
  };
  let sent = 0;
  await pump(async (queue) => {
    let kept = 0;
    for await (const stale of scanStaleDocuments(client, index, job.id, { signal })) {
      if (keep.has(stale.id)) {
        kept++;
        continue;
      }
      if (sent++ === 0) await checkStamps();
      const op = deleteOperation(stale.id, stale.index === index ? undefined : stale.index);
      if (!queue.tryPut(op, op.bytes)) await queue.put(op, op.bytes);
    }
    if (kept > 0) {
      logger.info(`Kept the previous version of ${kept} documents that failed to index`);
    }
  });
  return sent;
}
