/**
 * The document of a new connector, shaped as Kibana (and the Elasticsearch `_connector` API)
 * writes it (spec §2): default filtering with the `DEFAULT` rule, the three schedules disabled at
 * midnight, every `last_*` field null, `sync_now: false`.
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
  /** Pipeline settings (Kibana copies the defaults from the connectors mapping's `_meta`). */
  pipeline?: PipelineSettings | null;
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
 * document").
 *
 * @example
 * ```ts
 * import { newConnectorDoc } from "./connector_doc.ts";
 * const doc = newConnectorDoc({ name: "Docs", indexName: "search-docs", serviceType: "dir" });
 * if (doc.status !== "created" || doc.scheduling.full?.enabled !== false || doc.sync_now !== false) {
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
    pipeline: options.pipeline ?? null,
    scheduling: {
      access_control: schedule(options.accessControlSchedule),
      full: schedule(options.fullSchedule),
      incremental: schedule(options.incrementalSchedule),
    },
    service_type: options.serviceType,
    status: options.status ?? "created",
    sync_cursor: null,
    sync_now: false,
  };
}
