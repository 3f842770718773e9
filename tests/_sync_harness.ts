/**
 * Shared fixtures of the sync engine tests: a job document shaped as spec §3, generated
 * sources, a request builder and index read-back helpers. Real Elasticsearch, no mocks.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import { type BulkConfig, defaultConfig, type ElasticsearchConfig } from "../src/config/mod.ts";
import { createEsClient } from "../src/es/mod.ts";
import { createLogger, type Logger, type LogRecord } from "../src/log/mod.ts";
import type { JobType, PipelineSettings, SyncJob } from "../src/protocol/types.ts";
import type {
  DataSource,
  DataSourceClass,
  DocItem,
  Filtering,
  SourceFeatures,
} from "../src/source/types.ts";
import {
  type ContentSyncResult,
  type DeletionGuard,
  emptyStats,
  type PreviousSync,
  runContentSync,
  type SyncStats,
} from "../src/sync/mod.ts";
import { esUrl, uniqueName } from "./_helpers.ts";

/** The `elasticsearch` config for the test node (fast retries). */
export function testEsConfig(host = esUrl(), overrides: Partial<ElasticsearchConfig> = {}) {
  return {
    ...defaultConfig().elasticsearch,
    host,
    retry_interval: 0.2,
    initial_backoff_duration: 0.05,
    ...overrides,
  };
}

/** A client for the test node. */
export function testClient(host = esUrl(), overrides: Partial<ElasticsearchConfig> = {}): Client {
  return createEsClient(testEsConfig(host, overrides));
}

/** `elasticsearch.bulk` defaults with fast per-item retries, plus overrides. */
export function testBulk(overrides: Partial<BulkConfig> = {}): BulkConfig {
  return { ...defaultConfig().elasticsearch.bulk, retry_interval: 0.05, ...overrides };
}

let jobCounter = 0;

/** A sync job document as Kibana / the service write it (spec §3). */
export function makeJob(
  index: string,
  options: {
    jobType?: JobType;
    pipeline?: PipelineSettings | null;
    filtering?: Filtering | Filtering[] | null;
    cursor?: unknown;
    id?: string;
  } = {},
): SyncJob {
  const now = new Date().toISOString();
  return {
    id: options.id ?? `job-${Date.now().toString(36)}-${++jobCounter}`,
    seqNo: 0,
    primaryTerm: 1,
    doc: {
      cancelation_requested_at: null,
      canceled_at: null,
      completed_at: null,
      connector: {
        id: "connector-1",
        configuration: {},
        filtering: options.filtering ?? { rules: [], advanced_snippet: {} },
        index_name: index,
        language: null,
        pipeline: options.pipeline === undefined
          ? {
            name: "search-default-ingestion",
            extract_binary_content: true,
            reduce_whitespace: true,
            run_ml_inference: true,
          }
          : options.pipeline,
        service_type: "test",
        sync_cursor: options.cursor ?? null,
      },
      created_at: now,
      deleted_document_count: 0,
      error: null,
      indexed_document_count: 0,
      indexed_document_volume: 0,
      job_type: options.jobType ?? "full",
      last_seen: now,
      metadata: {},
      started_at: now,
      status: "in_progress",
      total_document_count: null,
      trigger_method: "on_demand",
      worker_hostname: "test",
    },
  };
}

/** A source class with the given features. */
export function testSourceClass(features: Partial<SourceFeatures> = {}): DataSourceClass {
  return class TestSource {
    static features = features;
    static getDefaultConfiguration() {
      return {};
    }
    ping() {
      return Promise.resolve();
    }
    async *getDocs(): AsyncGenerator<DocItem> {}
  } as unknown as DataSourceClass;
}

/** A source yielding what `docs` yields. */
export function sourceOf(
  docs: (filtering?: Filtering) => AsyncIterable<DocItem>,
  extra: Partial<DataSource> = {},
): DataSource {
  return { ping: () => Promise.resolve(), getDocs: docs, ...extra };
}

/** A generated document: `doc-<i>` with a few fields, `_timestamp` derived from `version`. */
export function generatedDoc(i: number, version = 1): Record<string, unknown> & { _id: string } {
  return {
    _id: `doc-${i}`,
    title: `Document ${i} v${version}`,
    body: `Body of document number ${i}, version ${version}. `.repeat(3),
    n: i,
    version,
    _timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString(),
  };
}

/** Yields `generatedDoc(i, version(i))` for i in [0, count) not in `skip`. */
export async function* generate(
  count: number,
  options: { version?: (i: number) => number; skip?: (i: number) => boolean } = {},
): AsyncGenerator<DocItem> {
  for (let i = 0; i < count; i++) {
    if (options.skip?.(i)) continue;
    yield generatedDoc(i, options.version?.(i) ?? 1);
  }
}

/** A logger recording every line. */
export function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: createLogger({ level: "DEBUG", sink: (r) => records.push(r) }), records };
}

/** Options of {@linkcode runSync}. */
export interface RunSyncOptions {
  client: Client;
  index: string;
  source: DataSource;
  features?: Partial<SourceFeatures>;
  jobType?: JobType;
  bulk?: Partial<BulkConfig>;
  filtering?: Filtering | null;
  pipeline?: PipelineSettings | null;
  cursor?: unknown;
  signal?: AbortSignal;
  logger?: Logger;
  stats?: SyncStats;
  maxFileSize?: number;
  jobId?: string;
  /** The last completed sync the runner found (undefined: none, so `changed()` is not asked). */
  previousSync?: PreviousSync;
  /** The mass-deletion guard (default: the engine's). */
  deletionGuard?: DeletionGuard;
}

/**
 * A completed earlier sync whose job had the same snapshot as `job` and left `count` documents:
 * with it, an unchanged source's `changed()` decides.
 */
export function previousSyncOf(job: SyncJob, count: number): PreviousSync {
  return {
    jobId: "previous-job",
    snapshot: structuredClone(job.doc.connector),
    totalDocumentCount: count,
  };
}

/** Runs `runContentSync` with a fake job. */
export function runSync(options: RunSyncOptions): Promise<ContentSyncResult> {
  const job = makeJob(options.index, {
    jobType: options.jobType ?? "full",
    filtering: options.filtering ?? null,
    cursor: options.cursor,
    ...(options.pipeline !== undefined ? { pipeline: options.pipeline } : {}),
    ...(options.jobId ? { id: options.jobId } : {}),
  });
  return runContentSync({
    job,
    source: options.source,
    sourceClass: testSourceClass(options.features ?? {}),
    client: options.client,
    bulk: testBulk(options.bulk ?? {}),
    maxFileSize: options.maxFileSize ?? 10485760,
    logger: options.logger ?? recordingLogger().logger,
    signal: options.signal ?? new AbortController().signal,
    stats: options.stats ?? emptyStats(),
    ...(options.previousSync ? { previousSync: options.previousSync } : {}),
    ...(options.deletionGuard ? { deletionGuard: options.deletionGuard } : {}),
  });
}

/** Every document of an index (refreshed first): `_id` → `_source`. At most 10,000. */
export async function readIndex(
  client: Client,
  index: string,
): Promise<Map<string, Record<string, unknown>>> {
  await client.indices.refresh({ index });
  const page = await client.search({ index, size: 10000, track_total_hits: true });
  const total = page.hits.total;
  if (typeof total === "object" && total.value > 10000) throw new Error("readIndex: too many docs");
  const out = new Map<string, Record<string, unknown>>();
  for (const hit of page.hits.hits) out.set(hit._id!, hit._source as Record<string, unknown>);
  return out;
}

/** Document count of an index after a refresh. */
export async function countIndex(client: Client, index: string): Promise<number> {
  await client.indices.refresh({ index });
  return (await client.count({ index })).count;
}

/** Deletes an index (ignoring a missing one). */
export async function dropIndex(client: Client, index: string): Promise<void> {
  await client.indices.delete({ index, ignore_unavailable: true });
}

/** A fresh lowercase index name for one test. */
export function uniqueIndex(prefix: string): string {
  return uniqueName(prefix).toLowerCase();
}
