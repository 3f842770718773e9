/**
 * The document of a new connector, shaped as Kibana (and the Elasticsearch `_connector` API)
 * writes it (spec §2): default filtering with the `DEFAULT` rule, the three schedules disabled at
 * midnight, every `last_*` field null, `sync_now: false`, and the default ingest pipeline of the
 * cluster's major version (spec §0: `search-default-ingestion` from 9.0, before that
 * `ent-search-generic-ingestion`).
 *
 * @module
 */
import type { SourceConfiguration } from "../source/types.ts";
import type {
  ConnectorDoc,
  ConnectorFeatures,
  ConnectorStatus,
  FilteringEntry,
  PipelineSettings,
  Schedule,
} from "./types.ts";
import { DEFAULT_FILTERING_DOMAIN } from "./types.ts";

/** Kibana's interval of a new schedule: every day at midnight (UTC, Quartz syntax). */
export const DEFAULT_SCHEDULE_INTERVAL = "0 0 0 * * ?";

/** Id of the match-all rule Kibana seeds into every connector's filtering. */
export const DEFAULT_FILTERING_RULE_ID = "DEFAULT";

/** The ingest pipeline Elasticsearch 9.x installs and Kibana and Elastic's CLI name on 9.x. */
export const DEFAULT_PIPELINE_NAME_9X = "search-default-ingestion";

/** The ingest pipeline Elasticsearch 8.x installs and Kibana and Elastic's CLI name on 8.x. */
export const DEFAULT_PIPELINE_NAME_8X = "ent-search-generic-ingestion";

/** First Elasticsearch major whose default pipeline is {@linkcode DEFAULT_PIPELINE_NAME_9X}. */
export const DEFAULT_PIPELINE_RENAMED_IN_MAJOR = 9;

/**
 * The default ingest pipeline name for a cluster major: {@linkcode DEFAULT_PIPELINE_NAME_8X}
 * before 9, {@linkcode DEFAULT_PIPELINE_NAME_9X} from 9 on. An unknown major (undefined, NaN)
 * gets the current one, {@linkcode DEFAULT_PIPELINE_NAME_9X}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultPipelineName } from "./connector_doc.ts";
 * assert.equal(defaultPipelineName(9), "search-default-ingestion");
 * assert.equal(defaultPipelineName(8), "ent-search-generic-ingestion");
 * assert.equal(defaultPipelineName(undefined), "search-default-ingestion");
 * ```
 */
export function defaultPipelineName(esMajor?: number): string {
  return esMajor !== undefined && Number.isFinite(esMajor) &&
      esMajor < DEFAULT_PIPELINE_RENAMED_IN_MAJOR
    ? DEFAULT_PIPELINE_NAME_8X
    : DEFAULT_PIPELINE_NAME_9X;
}

/**
 * The pipeline settings of a new connector when the connectors mapping holds no defaults: the
 * major's {@linkcode defaultPipelineName} with binary extraction, whitespace reduction and ML
 * inference on (Kibana's `DEFAULT_PIPELINE_VALUES`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultPipelineSettings } from "./connector_doc.ts";
 * assert.deepEqual(defaultPipelineSettings(9), {
 *   name: "search-default-ingestion",
 *   extract_binary_content: true,
 *   reduce_whitespace: true,
 *   run_ml_inference: true,
 * });
 * ```
 */
export function defaultPipelineSettings(esMajor?: number): PipelineSettings {
  return {
    name: defaultPipelineName(esMajor),
    extract_binary_content: true,
    reduce_whitespace: true,
    run_ml_inference: true,
  };
}

/**
 * The pipeline settings a new connector gets on a cluster of major `esMajor`: the defaults of
 * the connectors mapping's `_meta` (what Kibana copies; undefined when there are none) or else
 * {@linkcode defaultPipelineSettings}. A `_meta` name that is the *other* major's default (an
 * index created under 8.x, or by an older version of this service, on a 9.x cluster) names a
 * pipeline this cluster does not install, so it is replaced by this major's default; any other
 * name (one chosen in Kibana) is kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newConnectorPipeline } from "./connector_doc.ts";
 * const stale = {
 *   name: "ent-search-generic-ingestion",
 *   extract_binary_content: true,
 *   reduce_whitespace: false,
 *   run_ml_inference: true,
 * };
 * assert.equal(newConnectorPipeline(stale, 9).name, "search-default-ingestion");
 * assert.equal(newConnectorPipeline(stale, 9).reduce_whitespace, false);
 * assert.equal(newConnectorPipeline({ ...stale, name: "mine" }, 9).name, "mine");
 * assert.equal(newConnectorPipeline(undefined, 8).name, "ent-search-generic-ingestion");
 * ```
 */
export function newConnectorPipeline(
  meta: PipelineSettings | undefined,
  esMajor?: number,
): PipelineSettings {
  if (meta === undefined) return defaultPipelineSettings(esMajor);
  const wanted = defaultPipelineName(esMajor);
  const isOtherDefault = meta.name !== wanted &&
    (meta.name === DEFAULT_PIPELINE_NAME_8X || meta.name === DEFAULT_PIPELINE_NAME_9X);
  return isOtherDefault ? { ...meta, name: wanted } : { ...meta };
}

/** What {@linkcode newConnectorDoc} needs. */
export interface NewConnectorOptions {
  name: string;
  indexName: string;
  serviceType: string;
  /** Analyzer language code, null for "universal". */
  language?: string | null;
  /** Full configuration fields (schema with values); `{}` lets the service write the schema. */
  configuration?: SourceConfiguration | Record<string, never>;
  /** `configured` when the values are complete and valid, else `needs_configuration`. */
  status?: ConnectorStatus;
  /** Features of the source class; null leaves them to the service. */
  features?: ConnectorFeatures | null;
  /**
   * Pipeline settings (Kibana copies the defaults from the connectors mapping's `_meta`, see
   * {@linkcode newConnectorPipeline}); default: {@linkcode defaultPipelineSettings} of
   * `esMajor`.
   */
  pipeline?: PipelineSettings | null;
  /** Major version of the cluster, for the default pipeline name (unknown: 9.x). */
  esMajor?: number;
  description?: string | null;
  isNative?: boolean;
  /** Quartz cron of the full-sync schedule; enables it when given. */
  fullSchedule?: string;
  /** Quartz cron of the incremental-sync schedule; enables it when given. */
  incrementalSchedule?: string;
  /** Quartz cron of the access-control-sync schedule; enables it when given. */
  accessControlSchedule?: string;
  now?: Date;
}

/**
 * The `filtering` array of a new connector: one `DEFAULT` domain entry whose `active` and
 * `draft` both hold the match-all rule, an empty advanced snippet and a valid validation.
 *
 * @example
 * ```ts
 * import { defaultFiltering } from "./connector_doc.ts";
 * const [entry] = defaultFiltering(new Date(0));
 * if (entry!.active.rules[0]!.id !== "DEFAULT" || entry!.draft.validation?.state !== "valid") {
 *   throw new Error();
 * }
 * ```
 */
export function defaultFiltering(now: Date = new Date()): FilteringEntry[] {
  const at = now.toISOString();
  const state = () => ({
    advanced_snippet: { value: {}, created_at: at, updated_at: at },
    rules: [{
      id: DEFAULT_FILTERING_RULE_ID,
      policy: "include" as const,
      field: "_",
      rule: "regex" as const,
      value: ".*",
      order: 0,
      created_at: at,
      updated_at: at,
    }],
    validation: { state: "valid", errors: [] },
  });
  return [{ domain: DEFAULT_FILTERING_DOMAIN, active: state(), draft: state() }];
}

function schedule(interval: string | undefined): Schedule {
  return interval === undefined
    ? { enabled: false, interval: DEFAULT_SCHEDULE_INTERVAL }
    : { enabled: true, interval };
}

/**
 * A new self-managed connector document as Kibana writes it (spec §2, "New-connector
 * document"): the same keys as Kibana's, no more (no `sync_cursor`, no `deleted`).
 *
 * @example
 * ```ts
 * import { newConnectorDoc } from "./connector_doc.ts";
 * const doc = newConnectorDoc({ name: "Docs", indexName: "search-docs", serviceType: "dir" });
 * if (doc.status !== "created" || doc.scheduling.full?.enabled !== false || doc.sync_now !== false) {
 *   throw new Error();
 * }
 * if (doc.pipeline?.name !== "search-default-ingestion" || "sync_cursor" in JSON.parse(JSON.stringify(doc))) {
 *   throw new Error();
 * }
 * ```
 */
export function newConnectorDoc(options: NewConnectorOptions): ConnectorDoc {
  return {
    api_key_id: null,
    api_key_secret_id: null,
    configuration: options.configuration ?? {},
    custom_scheduling: {},
    description: options.description ?? null,
    error: null,
    features: options.features ?? null,
    filtering: defaultFiltering(options.now),
    index_name: options.indexName,
    is_native: options.isNative ?? false,
    language: options.language ?? null,
    last_access_control_sync_error: null,
    last_access_control_sync_scheduled_at: null,
    last_access_control_sync_status: null,
    last_deleted_document_count: null,
    last_incremental_sync_scheduled_at: null,
    last_indexed_document_count: null,
    last_seen: null,
    last_sync_error: null,
    last_sync_scheduled_at: null,
    last_sync_status: null,
    last_synced: null,
    name: options.name,
    pipeline: options.pipeline === undefined
      ? defaultPipelineSettings(options.esMajor)
      : options.pipeline,
    scheduling: {
      access_control: schedule(options.accessControlSchedule),
      full: schedule(options.fullSchedule),
      incremental: schedule(options.incrementalSchedule),
    },
    service_type: options.serviceType,
    status: options.status ?? "created",
    // Kibana writes no `sync_cursor` (the service sets it after a sync): undefined is left out of
    // the JSON body, so the stored document has Kibana's keys.
    sync_cursor: undefined,
    sync_now: false,
  };
}
