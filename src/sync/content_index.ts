/**
 * The index a sync writes to (spec §5.1-§5.2, §1): created when missing, never dropped or
 * recreated; an alias is accepted and resolved; the job-stamp field is mapped as `keyword`. Content
 * indices and access-control indices (`.search-acl-filter-<index>`) differ only in what a new one
 * is created with.
 *
 * Creation: Elastic's 9.x framework sends a plain `PUT <index>` and relies on cluster defaults
 * (the 8.x language analyzers are gone). We do the same but add a minimal explicit mapping, so
 * that `id` is a `keyword` (dynamic mapping would make it `text`), `_timestamp` a `date`, the job
 * stamp a `keyword` (the stale-document scan queries it with a `term`), and the three pipeline
 * control fields are not indexed (the pipeline removes them; without one they would cost
 * indexing work for nothing). Everything else stays dynamic, and index templates matching the
 * name still apply.
 *
 * An access-control index is created as Elasticsearch's `search-acl-filter` template defines it
 * (hidden, 1 shard, 1 replica, `dynamic: false` with `created_at: date`) plus the job stamp, which
 * the stale-document scan of the full sync needs.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import { FatalError, statusOf } from "../errors/mod.ts";
import { clientLogger, deniedSentence } from "../es/mod.ts";
import type { Logger } from "../log/mod.ts";
import { SYNC_JOB_STAMP_FIELD } from "./document.ts";

/** The job stamp: searchable with `term` (the stale scan), no doc values (never sorted on). */
const STAMP_MAPPING = { type: "keyword", doc_values: false } as const;
/** Pipeline control fields: instructions the ingest pipeline removes; kept out of the index. */
const CONTROL_FIELD_MAPPING = { type: "boolean", index: false, doc_values: false } as const;

/** Mappings of a content index the service creates. */
export const CONTENT_INDEX_MAPPINGS = {
  dynamic: true,
  properties: {
    id: { type: "keyword" },
    _timestamp: { type: "date" },
    [SYNC_JOB_STAMP_FIELD]: STAMP_MAPPING,
    _extract_binary_content: CONTROL_FIELD_MAPPING,
    _reduce_whitespace: CONTROL_FIELD_MAPPING,
    _run_ml_inference: CONTROL_FIELD_MAPPING,
  },
} as const;

/** Settings of an access-control index the service creates (Elastic's `search-acl-filter`). */
export const ACCESS_CONTROL_INDEX_SETTINGS = {
  index: { hidden: true, number_of_shards: 1, number_of_replicas: 1 },
} as const;

/** Mappings of an access-control index the service creates: Elastic's, plus the job stamp. */
export const ACCESS_CONTROL_INDEX_MAPPINGS = {
  dynamic: false,
  properties: {
    created_at: { type: "date" },
    [SYNC_JOB_STAMP_FIELD]: STAMP_MAPPING,
  },
} as const;

/** What a missing index is created with. */
interface IndexTemplate {
  /** Word for log lines ("content index"). */
  kind: string;
  settings?: Record<string, unknown>;
  mappings: Record<string, unknown>;
}

const CONTENT_INDEX: IndexTemplate = { kind: "content index", mappings: CONTENT_INDEX_MAPPINGS };
const ACCESS_CONTROL_INDEX: IndexTemplate = {
  kind: "access-control index",
  settings: ACCESS_CONTROL_INDEX_SETTINGS,
  mappings: ACCESS_CONTROL_INDEX_MAPPINGS,
};

/** What {@linkcode ensureContentIndex} found or made. */
export interface ContentIndexInfo {
  /** The name the connector gives (index or alias); bulk requests go there. */
  name: string;
  /** Concrete indices behind it. */
  indices: string[];
  /** True when this call created the index. */
  created: boolean;
}

/**
 * Makes sure the content index (or the alias) exists and can carry the job stamp: creates it
 * when missing, and adds the stamp field's `keyword` mapping to an existing index that lacks it.
 * Throws a {@linkcode FatalError} when the stamp field exists with another type.
 *
 * @example
 * ```ts ignore
 * const info = await ensureContentIndex(client, "search-docs", logger);
 * ```
 */
export function ensureContentIndex(
  client: Client,
  indexName: string,
  logger: Logger,
): Promise<ContentIndexInfo> {
  return ensureIndex(client, indexName, logger, CONTENT_INDEX);
}

/**
 * Makes sure the access-control index `.search-acl-filter-<index>` of an access-control sync
 * exists and can carry the job stamp, as {@linkcode ensureContentIndex} does for content
 * indices; a missing one is created hidden, with {@linkcode ACCESS_CONTROL_INDEX_MAPPINGS}.
 *
 * @example
 * ```ts ignore
 * const info = await ensureAccessControlIndex(client, ".search-acl-filter-search-docs", logger);
 * ```
 */
export function ensureAccessControlIndex(
  client: Client,
  indexName: string,
  logger: Logger,
): Promise<ContentIndexInfo> {
  return ensureIndex(client, indexName, logger, ACCESS_CONTROL_INDEX);
}

async function ensureIndex(
  client: Client,
  indexName: string,
  logger: Logger,
  template: IndexTemplate,
): Promise<ContentIndexInfo> {
  const existing = await client.indices.get(
    { index: indexName, ignore_unavailable: true, allow_no_indices: true, features: ["mappings"] },
  ).catch((error) => {
    if (statusOf(error) === 404) return {};
    throw error;
  });
  let indices = Object.keys(existing);
  let created = false;
  if (indices.length === 0) {
    logger.info(`Creating ${template.kind}: ${indexName}`);
    try {
      await client.indices.create({
        index: indexName,
        mappings: template.mappings,
        ...(template.settings ? { settings: template.settings } : {}),
      });
      created = true;
    } catch (error) {
      // Another process may have created it in between: that is fine, anything else is not.
      const type = (error as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error
        ?.type;
      if (type !== "resource_already_exists_exception") throw error;
    }
    indices = [indexName];
    if (!created) {
      indices = Object.keys(
        await client.indices.get({ index: indexName, features: ["mappings"] }),
      );
    }
  } else if (!(indexName in existing)) {
    logger.debug(`The ${template.kind} ${indexName} is an alias of ${indices.join(", ")}`);
  }
  if (!created) await ensureStampMapping(client, indexName, indices);
  return { name: indexName, indices, created };
}

async function ensureStampMapping(client: Client, name: string, indices: string[]): Promise<void> {
  const mapping = await client.indices.getFieldMapping({
    index: name,
    fields: SYNC_JOB_STAMP_FIELD,
  });
  const missing: string[] = [];
  for (const index of indices) {
    const field = (mapping as Record<string, { mappings?: Record<string, unknown> }>)[index]
      ?.mappings?.[SYNC_JOB_STAMP_FIELD] as
        | { mapping?: Record<string, { type?: string }> }
        | undefined;
    const type = field?.mapping?.[SYNC_JOB_STAMP_FIELD]?.type;
    if (type === undefined) missing.push(index);
    else if (type !== "keyword") {
      throw new FatalError(
        `Cannot sync into index ${index}: its field ${SYNC_JOB_STAMP_FIELD} is mapped as ${type}, the service needs keyword`,
      );
    }
  }
  if (missing.length === 0) return;
  await client.indices.putMapping({
    index: missing.join(","),
    properties: { [SYNC_JOB_STAMP_FIELD]: STAMP_MAPPING },
  });
}

/** Per client, the pipelines whose check was refused and already warned about. */
const warnedPipelines = new WeakMap<Client, Set<string>>();

/**
 * Whether an ingest pipeline exists (`GET _ingest/pipeline/<name>`). That request needs the
 * cluster privilege `read_pipeline`, which Elastic's documented connector privileges do not
 * include: when it is refused (403) the answer is `true`, with one warning (per client and
 * pipeline) naming the privilege, and the bulk requests send the pipeline; should it not exist,
 * the bulk sink resends those documents without it (see `BulkSink`).
 *
 * @example
 * ```ts ignore
 * if (!await pipelineExists(client, "search-default-ingestion")) logger.warning("...");
 * ```
 */
export async function pipelineExists(client: Client, name: string): Promise<boolean> {
  try {
    const found = await client.ingest.getPipeline({ id: name });
    return Object.hasOwn(found, name);
  } catch (error) {
    if (statusOf(error) === 404) return false;
    if (statusOf(error) !== 403) throw error;
    const warned = warnedPipelines.get(client) ?? new Set<string>();
    warnedPipelines.set(client, warned);
    const logger = clientLogger(client);
    const text = deniedSentence(
      `check that ingest pipeline ${name} exists`,
      error,
      "read_pipeline",
      "sending it with the documents anyway (resent without it if it does not exist)",
    );
    if (warned.has(name)) logger.debug(text);
    else logger.warning(text);
    warned.add(name);
    return true;
  }
}

/** What Elasticsearch answers per item when the `pipeline` of a bulk request does not exist. */
const MISSING_PIPELINE = /pipeline with id \[[^\]]*\] does not exist/;

/**
 * True for a bulk item refused because the request's ingest pipeline does not exist.
 *
 * @example
 * ```ts
 * import { isMissingPipelineItem } from "./content_index.ts";
 * const item = { status: 400, error: { type: "illegal_argument_exception", reason: "pipeline with id [p] does not exist" } };
 * if (!isMissingPipelineItem(item) || isMissingPipelineItem({ status: 429 })) throw new Error();
 * ```
 */
export function isMissingPipelineItem(
  item: { status?: number; error?: { type?: string; reason?: string } },
): boolean {
  return item.status === 400 && MISSING_PIPELINE.test(item.error?.reason ?? "");
}
