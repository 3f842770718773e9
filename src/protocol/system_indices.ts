/**
 * The two system indices (spec §1): `.elastic-connectors` and `.elastic-connectors-sync-jobs`,
 * aliases over `-v1` concrete indices with hidden, single-shard settings and `dynamic: false`
 * mappings. The preflight creates them only when they are missing and nothing else will.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import {
  classifyError,
  errorMessage,
  FatalError,
  RetriableError,
  statusOf,
} from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { defaultPipelineSettings } from "./connector_doc.ts";
import { CONNECTORS_INDEX, JOBS_INDEX } from "./types.ts";

/** Version of the system index layout (`_meta.version`, the `-v<N>` suffix). */
export const SYSTEM_INDEX_VERSION = 1;
/** Concrete index behind {@linkcode CONNECTORS_INDEX}. */
export const CONNECTORS_CONCRETE_INDEX = `${CONNECTORS_INDEX}-v${SYSTEM_INDEX_VERSION}`;
/** Concrete index behind {@linkcode JOBS_INDEX}. */
export const JOBS_CONCRETE_INDEX = `${JOBS_INDEX}-v${SYSTEM_INDEX_VERSION}`;
/** Name of the index template Elasticsearch installs for the connectors index (8.10+). */
export const CONNECTORS_TEMPLATE = "elastic-connectors";

/** Settings of both system indices. */
export const SYSTEM_INDEX_SETTINGS = {
  hidden: true,
  number_of_shards: "1",
  auto_expand_replicas: "0-1",
} as const;

const keyword = { type: "keyword" } as const;
const date = { type: "date" } as const;
const bool = { type: "boolean" } as const;
const object = { type: "object" } as const;
const enabled = { properties: { enabled: bool } } as const;

const FILTERING_RULES = {
  properties: {
    created_at: date,
    field: keyword,
    id: keyword,
    order: { type: "short" },
    policy: keyword,
    rule: keyword,
    updated_at: date,
    value: keyword,
  },
} as const;
const ADVANCED_SNIPPET = {
  properties: { created_at: date, updated_at: date, value: object },
} as const;
const FILTERING_STATE = {
  properties: {
    advanced_snippet: ADVANCED_SNIPPET,
    rules: FILTERING_RULES,
    validation: {
      properties: {
        errors: { properties: { ids: keyword, messages: { type: "text" } } },
        state: keyword,
      },
    },
  },
} as const;
const PIPELINE = {
  properties: {
    extract_binary_content: bool,
    name: keyword,
    reduce_whitespace: bool,
    run_ml_inference: bool,
  },
} as const;

/** The `properties` of the `.elastic-connectors-v1` mapping (spec §1.1). */
const CONNECTORS_PROPERTIES = {
  api_key_id: keyword,
  api_key_secret_id: keyword,
  connector_id: keyword,
  configuration: object,
  custom_scheduling: object,
  deleted: bool,
  description: { type: "text" },
  error: keyword,
  features: {
    properties: {
      filtering_advanced_config: bool,
      filtering_rules: bool,
      incremental_sync: enabled,
      sync_rules: { properties: { advanced: enabled, basic: enabled } },
    },
  },
  filtering: { properties: { active: FILTERING_STATE, domain: keyword, draft: FILTERING_STATE } },
  index_name: keyword,
  is_native: bool,
  language: keyword,
  last_access_control_sync_error: keyword,
  last_access_control_sync_scheduled_at: date,
  last_access_control_sync_status: keyword,
  last_deleted_document_count: { type: "long" },
  last_incremental_sync_scheduled_at: date,
  last_indexed_document_count: { type: "long" },
  last_seen: date,
  last_sync_error: keyword,
  last_sync_scheduled_at: date,
  last_sync_status: keyword,
  last_synced: date,
  name: keyword,
  pipeline: PIPELINE,
  scheduling: {
    properties: {
      access_control: { properties: { enabled: bool, interval: { type: "text" } } },
      full: { properties: { enabled: bool, interval: { type: "text" } } },
      incremental: { properties: { enabled: bool, interval: { type: "text" } } },
    },
  },
  service_type: keyword,
  status: keyword,
  sync_cursor: object,
  sync_now: bool,
} as const;

/**
 * Mapping of `.elastic-connectors-v1` (spec §1.1), with `deleted` mapped so it is queryable.
 * Its `_meta.pipeline` holds the defaults Kibana copies into new connectors, named as the ES
 * template of the cluster's major names them: {@linkcode defaultPipelineName} (9.x:
 * `search-default-ingestion`, 8.x: `ent-search-generic-ingestion`; unknown major: 9.x).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectorsMappings } from "./system_indices.ts";
 * assert.equal(connectorsMappings(9)._meta.pipeline.default_name, "search-default-ingestion");
 * assert.equal(connectorsMappings(8)._meta.pipeline.default_name, "ent-search-generic-ingestion");
 * ```
 */
export function connectorsMappings(esMajor?: number) {
  const pipeline = defaultPipelineSettings(esMajor);
  return {
    dynamic: "false",
    _meta: {
      pipeline: {
        default_name: pipeline.name,
        default_extract_binary_content: pipeline.extract_binary_content,
        default_run_ml_inference: pipeline.run_ml_inference,
        default_reduce_whitespace: pipeline.reduce_whitespace,
      },
      version: SYSTEM_INDEX_VERSION,
    },
    properties: CONNECTORS_PROPERTIES,
  } as const;
}

/** {@linkcode connectorsMappings} of a 9.x cluster. */
export const CONNECTORS_MAPPINGS: ReturnType<typeof connectorsMappings> = connectorsMappings(9);

/** Mapping of `.elastic-connectors-sync-jobs-v1` (spec §1.2). */
export const JOBS_MAPPINGS = {
  dynamic: "false",
  _meta: { version: SYSTEM_INDEX_VERSION },
  properties: {
    cancelation_requested_at: date,
    canceled_at: date,
    completed_at: date,
    connector: {
      properties: {
        configuration: object,
        filtering: {
          properties: {
            advanced_snippet: ADVANCED_SNIPPET,
            domain: keyword,
            rules: FILTERING_RULES,
            warnings: { properties: { ids: keyword, messages: { type: "text" } } },
          },
        },
        id: keyword,
        index_name: keyword,
        language: keyword,
        pipeline: PIPELINE,
        service_type: keyword,
        sync_cursor: object,
      },
    },
    created_at: date,
    deleted_document_count: { type: "integer" },
    error: keyword,
    indexed_document_count: { type: "integer" },
    indexed_document_volume: { type: "integer" },
    job_type: keyword,
    last_seen: date,
    metadata: object,
    started_at: date,
    status: keyword,
    total_document_count: { type: "integer" },
    trigger_method: keyword,
    worker_hostname: keyword,
  },
} as const;

/**
 * A system index is missing on a cluster where only Elasticsearch may create it (9.x). It may
 * appear later (when Kibana creates the first connector), so the preflight retries it.
 *
 * @example
 * ```ts
 * import { SystemIndexMissingError } from "./system_indices.ts";
 * new SystemIndexMissingError(".elastic-connectors", 9);
 * ```
 */
export class SystemIndexMissingError extends FatalError {
  constructor(alias: string, major: number) {
    super(
      `System index ${alias} does not exist and cannot be created by this service: on Elasticsearch ${major}.x it is a system index that Elasticsearch creates itself when the first connector is created (in Kibana or with PUT _connector/<id>)`,
    );
  }
}

/** Options of {@linkcode ensureSystemIndices}. */
export interface EnsureSystemIndicesOptions {
  /**
   * Major version of the cluster (from the preflight); 9+ manages the indices itself. It also
   * names the default pipeline in the connectors mapping's `_meta` ({@linkcode connectorsMappings}).
   */
  esMajor?: number;
}

/** What {@linkcode ensureSystemIndices} did per index. */
export type SystemIndexOutcome = "exists" | "created" | "created-by-template";

async function exists(client: Client, index: string): Promise<boolean> {
  return await client.indices.exists({ index, expand_wildcards: "all" } as never);
}

async function templateInstalled(client: Client): Promise<boolean> {
  try {
    return await client.indices.existsIndexTemplate({ name: CONNECTORS_TEMPLATE });
  } catch (error) {
    // Without manage_index_templates the answer is unknown: behave as if none were installed.
    if (statusOf(error) === 403) return false;
    throw error;
  }
}

/**
 * Makes sure both system indices exist. Existing ones (alias or concrete name) are left alone.
 * A missing one is created under its concrete name: with the full settings, mappings and alias
 * when the cluster has no connector templates (plain distributions, tests); with an empty body
 * when Elasticsearch 8.x installed its `elastic-connectors` templates (they apply). On 9.x
 * clusters with those templates the indices are system indices that only Elasticsearch may
 * create, so nothing is attempted and the error says so.
 *
 * Throws a {@linkcode RetriableError} when the cluster is unreachable and a
 * {@linkcode FatalError} with a readable message when creation is refused.
 *
 * @example
 * ```ts ignore
 * import { ensureSystemIndices } from "./system_indices.ts";
 * await ensureSystemIndices(client, logger, { esMajor: 9 });
 * ```
 */
export async function ensureSystemIndices(
  client: Client,
  logger: Logger,
  options: EnsureSystemIndicesOptions = {},
): Promise<Record<string, SystemIndexOutcome>> {
  const outcome: Record<string, SystemIndexOutcome> = {};
  const wanted = [
    {
      alias: CONNECTORS_INDEX,
      concrete: CONNECTORS_CONCRETE_INDEX,
      mappings: connectorsMappings(options.esMajor),
    },
    { alias: JOBS_INDEX, concrete: JOBS_CONCRETE_INDEX, mappings: JOBS_MAPPINGS },
  ];
  let managedByEs: boolean | undefined;
  for (const { alias, concrete, mappings } of wanted) {
    try {
      if (await exists(client, alias) || await exists(client, concrete)) {
        outcome[alias] = "exists";
        continue;
      }
      managedByEs ??= await templateInstalled(client);
      if (managedByEs && (options.esMajor ?? 0) >= 9) {
        throw new SystemIndexMissingError(alias, options.esMajor ?? 9);
      }
      const body = managedByEs
        ? {}
        : { settings: SYSTEM_INDEX_SETTINGS, mappings, aliases: { [alias]: {} } };
      await client.indices.create({ index: concrete, ...body } as never);
      outcome[alias] = managedByEs ? "created-by-template" : "created";
      logger.info(`Created system index ${concrete} (alias ${alias})`);
    } catch (error) {
      if (error instanceof FatalError) throw error;
      const type = (error as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error
        ?.type;
      if (type === "resource_already_exists_exception") {
        outcome[alias] = "exists"; // Another service process created it first.
        continue;
      }
      if (classifyError(error) === "retriable") {
        throw new RetriableError(`Cannot check system index ${alias}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      const status = statusOf(error);
      const why = status === 403
        ? "the credentials lack the privilege to create it (grant create_index/manage on .elastic-connectors*, or create a connector in Kibana first)"
        : errorMessage(error);
      throw new FatalError(`Cannot create system index ${concrete} (alias ${alias}): ${why}`, {
        cause: error,
      });
    }
  }
  return outcome;
}
