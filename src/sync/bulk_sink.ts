/**
 * The bulk sink (spec §5.4): takes operations from the {@linkcode BoundedQueue}, packs them into
 * `_bulk` requests (flushed before an operation would cross `chunk_size` lines or
 * `chunk_max_mem_size` MiB), keeps up to `max_concurrency` requests in flight, retries per-item
 * 429s with jittered exponential backoff (whole-request 429/5xx are retried by the client's
 * transport), and parses every response item: successes update the live counters, failures are
 * counted, logged once per error type and fed to the {@linkcode ErrorMonitor}.
 *
 * Two operations on the same `_id` never race: a batch waits for the earlier in-flight batches
 * that touch any of its ids.
 *
 * @module
 */
import { backoffDelay, createLimiter, type Limiter, sleep } from "../async/mod.ts";
import { Buffer } from "node:buffer";
import type { Client } from "@elastic/elasticsearch";
import type { BulkConfig } from "../config/mod.ts";
import { FatalError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { SyncStats } from "./types.ts";
import { type BoundedQueue, QUEUE_END, QUEUE_TIMEOUT } from "./bounded_queue.ts";
import { isMissingPipelineItem } from "./content_index.ts";
import { SYNC_JOB_STAMP_FIELD, utf8Length } from "./document.ts";
import type { ErrorMonitor } from "./error_monitor.ts";

/** Bytes in a MiB. */
export const MIB = 1024 * 1024;
/** Milliseconds a partial batch waits for more operations before it is sent anyway. */
export const DEFAULT_BATCH_IDLE_FLUSH_MS = 1000;
/** Response fields the sink reads; the rest is filtered out by Elasticsearch. */
const BULK_FILTER_PATH = "errors,items.*.status,items.*.error,items.*.result";

/** The bulk actions the sink sends. */
export type BulkAction = "index" | "update" | "delete";

/** One operation, already serialised as bulk NDJSON lines. */
export interface BulkOperation {
  action: BulkAction;
  /** Document `_id`. */
  id: string;
  /** The NDJSON lines, each ending with a newline. */
  lines: string;
  /** UTF-8 bytes of `lines`. */
  bytes: number;
  /** Bytes added to `indexed_document_volume` when it succeeds. */
  volume: number;
  /** False for stamp-only updates, which are not counted as indexed documents. */
  counted: boolean;
}

const encoder = new TextEncoder();

function actionLine(action: BulkAction, id: string, index?: string): string {
  return index === undefined
    ? `{"${action}":{"_id":${JSON.stringify(id)}}}\n`
    : `{"${action}":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}\n`;
}

/**
 * An `index` operation (full replace) for a serialised document body.
 *
 * @example
 * ```ts
 * import { indexOperation } from "./bulk_sink.ts";
 * const op = indexOperation("a", '{"id":"é"}');
 * if (op.lines !== '{"index":{"_id":"a"}}\n{"id":"é"}\n' || op.volume !== 11) throw new Error();
 * ```
 */
export function indexOperation(id: string, body: string): BulkOperation {
  const head = actionLine("index", id);
  const volume = utf8Length(body);
  return {
    action: "index",
    id,
    lines: `${head}${body}\n`,
    bytes: utf8Length(head) + volume + 1,
    volume,
    counted: true,
  };
}

/**
 * An `update` operation with `doc_as_upsert` (incremental `update`).
 *
 * @example
 * ```ts
 * import { updateOperation } from "./bulk_sink.ts";
 * if (!updateOperation("a", "{}").lines.includes('"doc_as_upsert":true')) throw new Error();
 * ```
 */
export function updateOperation(id: string, body: string): BulkOperation {
  const head = `${actionLine("update", id)}{"doc":`;
  const tail = `,"doc_as_upsert":true}\n`;
  const volume = utf8Length(body);
  return {
    action: "update",
    id,
    lines: head + body + tail,
    bytes: utf8Length(head) + volume + tail.length,
    volume,
    counted: true,
  };
}

/**
 * An update that only re-stamps an unchanged document with the current job id.
 *
 * @example
 * ```ts
 * import { stampOperation } from "./bulk_sink.ts";
 * if (stampOperation("a", "job1").counted) throw new Error();
 * ```
 */
export function stampOperation(id: string, jobId: string): BulkOperation {
  const lines = `${actionLine("update", id)}{"doc":{"${SYNC_JOB_STAMP_FIELD}":${
    JSON.stringify(jobId)
  }}}\n`;
  return { action: "update", id, lines, bytes: utf8Length(lines), volume: 0, counted: false };
}

/**
 * A `delete` operation; `index` names the concrete index when the target is an alias.
 *
 * @example
 * ```ts
 * import { deleteOperation } from "./bulk_sink.ts";
 * if (deleteOperation("a").lines !== '{"delete":{"_id":"a"}}\n') throw new Error();
 * ```
 */
export function deleteOperation(id: string, index?: string): BulkOperation {
  const lines = actionLine("delete", id, index);
  return { action: "delete", id, lines, bytes: utf8Length(lines), volume: 0, counted: true };
}

/** Options of {@linkcode BulkSink}. */
export interface BulkSinkOptions {
  client: Client;
  /** Target index or alias. */
  index: string;
  /** Ingest pipeline for the `pipeline` parameter; undefined sends none. */
  pipeline?: string | undefined;
  bulk: BulkConfig;
  /** Live counters, updated as items succeed or fail. */
  stats: SyncStats;
  monitor: ErrorMonitor;
  logger: Logger;
  signal: AbortSignal;
  /** Called for every failed index or update item (the sync keeps the previous version). */
  onItemFailure?: (op: BulkOperation) => void;
  /** Milliseconds a partial batch waits for more operations (default 1000). */
  idleFlushMs?: number;
}

/** A batch sent or waiting to be sent, and the promise settled when it is done. */
interface InFlightBatch {
  ops: BulkOperation[];
  done: Promise<void>;
}

/** Slots of the in-flight id filter (2 bytes each); false positives cost a scan, not an error. */
const ID_FILTER_SLOTS = 1 << 20;

/** FNV-1a hash of an id, reduced to a filter slot. */
function idSlot(id: string): number {
  let hash = 2166136261;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 16777619);
  return (hash >>> 0) & (ID_FILTER_SLOTS - 1);
}

interface BulkItemResult {
  status?: number;
  result?: string;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

/**
 * Consumes a queue of {@linkcode BulkOperation}s into `_bulk` requests.
 *
 * @example
 * ```ts ignore
 * const sink = new BulkSink({ client, index, bulk, stats, monitor, logger, signal });
 * const done = sink.run(queue);
 * await queue.put(indexOperation("a", '{"id":"a"}'), 40);
 * queue.close();
 * await done;
 * ```
 */
export class BulkSink {
  /** Successful index/update items, stamp-only updates included. */
  writtenCount = 0;
  readonly #o: BulkSinkOptions;
  readonly #limiter: Limiter;
  readonly #path: string;
  readonly #querystring: Record<string, string>;
  readonly #maxLines: number;
  readonly #maxBytes: number;
  readonly #inFlight = new Set<InFlightBatch>();
  readonly #idFilter = new Uint16Array(ID_FILTER_SLOTS);
  readonly #loggedKinds = new Set<string>();
  /** Set once a bulk answer said the pipeline does not exist: later batches go without it. */
  #pipelineMissing = false;

  constructor(options: BulkSinkOptions) {
    this.#o = options;
    this.#limiter = createLimiter(Math.max(1, options.bulk.max_concurrency), options.signal);
    this.#path = `/${encodeURIComponent(options.index)}/_bulk`;
    this.#querystring = { filter_path: BULK_FILTER_PATH };
    if (options.pipeline) this.#querystring.pipeline = options.pipeline;
    this.#maxLines = Math.max(1, options.bulk.chunk_size);
    this.#maxBytes = Math.max(1, options.bulk.chunk_max_mem_size * MIB);
  }

  /**
   * Sends everything the queue delivers until it ends; resolves when every request settled.
   * May be called again (sequentially) with another queue.
   */
  async run(queue: BoundedQueue<BulkOperation>): Promise<void> {
    let batch: BulkOperation[] = [];
    let lines = 0;
    let bytes = 0;
    const idleMs = this.#o.idleFlushMs ?? DEFAULT_BATCH_IDLE_FLUSH_MS;
    // One timer per batch (not per wait): a batch older than idleMs is sent even if not full.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stale = false;
    const flush = async () => {
      clearTimeout(timer);
      timer = undefined;
      stale = false;
      if (batch.length === 0) return;
      const ops = batch;
      batch = [];
      lines = 0;
      bytes = 0;
      await this.#dispatch(ops);
    };
    try {
      for (;;) {
        let next: BulkOperation | typeof QUEUE_END | typeof QUEUE_TIMEOUT | undefined = stale
          ? QUEUE_TIMEOUT
          : queue.takeNow();
        if (next === undefined) next = await queue.take();
        if (next === QUEUE_END) break;
        if (next === QUEUE_TIMEOUT) {
          await flush();
          continue;
        }
        const opLines = next.action === "delete" ? 1 : 2;
        if (
          batch.length > 0 &&
          (lines + opLines > this.#maxLines || bytes + next.bytes > this.#maxBytes)
        ) {
          await flush();
        }
        if (batch.length === 0) {
          timer = setTimeout(() => {
            stale = true;
            queue.interrupt();
          }, idleMs);
        }
        batch.push(next);
        lines += opLines;
        bytes += next.bytes;
        if (lines >= this.#maxLines || bytes >= this.#maxBytes) await flush();
      }
      await flush();
      await this.#limiter.drain();
    } finally {
      clearTimeout(timer);
      // Never leave requests running behind the caller's back (they abort with the signal).
      await this.#limiter.drain().catch(() => {});
    }
  }

  /**
   * Sends a batch once a slot is free and once the earlier in-flight batches that touch one of
   * its ids are done. Ids are tracked in a counting filter (hash slots); a slot already in use
   * is confirmed by scanning the in-flight batches, which is rare.
   */
  async #dispatch(ops: BulkOperation[]): Promise<void> {
    const slots = new Uint32Array(ops.length);
    let waitFor: Set<Promise<void>> | undefined;
    for (let i = 0; i < ops.length; i++) {
      const id = ops[i]!.id;
      const slot = idSlot(id);
      slots[i] = slot;
      if (this.#idFilter[slot]! > 0) {
        for (const batch of this.#inFlight) {
          if (batch.ops.some((op) => op.id === id)) (waitFor ??= new Set()).add(batch.done);
        }
      }
    }
    for (let i = 0; i < slots.length; i++) this.#idFilter[slots[i]!]!++;
    let settled!: () => void;
    const entry: InFlightBatch = {
      ops,
      done: new Promise<void>((resolve) => (settled = resolve)),
    };
    this.#inFlight.add(entry);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (let i = 0; i < slots.length; i++) this.#idFilter[slots[i]!]!--;
      this.#inFlight.delete(entry);
      settled();
    };
    try {
      await this.#limiter.spawn(async () => {
        try {
          if (waitFor) await Promise.all(waitFor);
          await this.#send(ops);
        } finally {
          release();
        }
      });
    } catch (error) {
      release();
      throw error;
    }
  }

  async #send(ops: BulkOperation[]): Promise<void> {
    const { client, bulk, signal, logger } = this.#o;
    let pending = ops;
    for (let attempt = 0;; attempt++) {
      signal.throwIfAborted();
      // One encoding pass per request; the transport sends the bytes as they are.
      let text = "";
      for (const op of pending) text += op.lines;
      const bytes = encoder.encode(text);
      const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (logger.enabled("DEBUG")) {
        logger.debug(`Sending a batch of ${pending.length} operations (${body.length} bytes)`);
      }
      const querystring = { ...this.#querystring };
      const sentPipeline = querystring.pipeline !== undefined;
      const response = await client.transport.request<{ errors?: boolean; items?: unknown[] }>(
        { method: "POST", path: this.#path, querystring, bulkBody: body },
        // `bulk.retry_interval`, not the client's: a whole batch waits as its per-item retries do.
        { signal, maxRetries: bulk.max_retries, retryInterval: bulk.retry_interval } as never,
      );
      const items = response?.items;
      if (!Array.isArray(items) || items.length !== pending.length) {
        throw new FatalError(
          `Cannot read the _bulk response for index ${this.#o.index}: expected ${pending.length} items, got ${
            Array.isArray(items) ? items.length : "none"
          }`,
        );
      }
      const retry: BulkOperation[] = [];
      const withoutPipeline: BulkOperation[] = [];
      for (let i = 0; i < pending.length; i++) {
        const op = pending[i]!;
        const item = items[i] as Record<string, BulkItemResult>;
        const data = item[op.action] ?? Object.values(item)[0] ?? {};
        if (data.error) {
          if (sentPipeline && isMissingPipelineItem(data)) withoutPipeline.push(op);
          else if (data.status === 429 && attempt < bulk.max_retries) retry.push(op);
          else this.#failed(op, data);
        } else {
          this.#succeeded(op, data.result);
        }
      }
      if (withoutPipeline.length > 0) {
        // The pipeline could not be checked (no read_pipeline) and does not exist: as when the
        // check finds it missing, index without it, and resend these items at once.
        this.#dropPipeline();
        pending = [...withoutPipeline, ...retry];
        attempt--;
        continue;
      }
      if (retry.length === 0) return;
      const wait = backoffDelay(attempt, { initial: bulk.retry_interval, multiplier: 2 });
      logger.warning(
        `Elasticsearch rejected ${retry.length} of ${pending.length} bulk items with 429; retry ${
          attempt + 1
        }/${bulk.max_retries} in ${(wait / 1000).toFixed(1)}s`,
      );
      await sleep(wait, signal);
      pending = retry;
    }
  }

  /** Sends no pipeline from now on; warns once. */
  #dropPipeline(): void {
    const name = this.#querystring.pipeline;
    delete this.#querystring.pipeline;
    if (this.#pipelineMissing || name === undefined) return;
    this.#pipelineMissing = true;
    this.#o.logger.warning(
      `Ingest pipeline ${name} does not exist: indexing into ${this.#o.index} without a pipeline`,
    );
  }

  #succeeded(op: BulkOperation, result: string | undefined): void {
    const { stats, monitor, bulk, logger } = this.#o;
    monitor.trackSuccess();
    if (op.action === "delete") {
      if (result === "deleted") stats.deleted_document_count++;
    } else {
      this.writtenCount++;
      if (op.counted) {
        stats.indexed_document_count++;
        stats.indexed_document_volume_bytes += op.volume;
      }
    }
    if (bulk.enable_operations_logging) {
      logger.debug(`Executed '${op.action}' on document with id '${op.id}': ${result}`);
    }
  }

  #failed(op: BulkOperation, data: BulkItemResult): void {
    const { stats, monitor, logger, index } = this.#o;
    stats.failed_document_count++;
    const type = data.error?.type ?? `status ${data.status ?? "unknown"}`;
    const reason = data.error?.reason ?? "";
    const cause = data.error?.caused_by?.reason ? ` (${data.error.caused_by.reason})` : "";
    const message =
      `Failed to execute '${op.action}' on document with id '${op.id}' in index ${index}: ${type}: ${reason}${cause}`;
    const kind = `${op.action}:${type}`;
    if (!this.#loggedKinds.has(kind)) {
      this.#loggedKinds.add(kind);
      logger.error(`${message} (further '${type}' failures are counted, not logged)`);
    } else if (this.#o.bulk.enable_operations_logging) {
      logger.debug(message);
    }
    if (op.action !== "delete") this.#o.onItemFailure?.(op);
    monitor.trackError(op.id, message);
  }
}
