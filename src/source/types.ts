/**
 * The source contract (spec §7): what a data source class provides and what the framework hands
 * it. A source needs no base class: any class with these members works (checked structurally by
 * the loader). {@linkcode BaseDataSource} in `base_data_source.ts` supplies the defaults.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { WorkerPool } from "./worker_pool.ts";

/** Value type of a configuration field; `value` is coerced to it. */
export type ConfigFieldType = "str" | "int" | "float" | "bool" | "list";

/** UI widget Kibana renders for a field. */
export type ConfigFieldDisplay =
  | "textbox"
  | "textarea"
  | "numeric"
  | "toggle"
  | "dropdown"
  | "text";

/** A field is shown and validated only when `field` has `value`. */
export interface DependsOn {
  field: string;
  value: unknown;
}

/** A declarative check of a field's value, run by the framework. */
export type FieldValidation =
  | { type: "less_than"; constraint: number }
  | { type: "greater_than"; constraint: number }
  | { type: "list_type"; constraint: "str" | "int" }
  | { type: "included_in"; constraint: unknown[] }
  | { type: "regex"; constraint: string };

/** One "rich configurable field" as Kibana stores it in the connector's `configuration`. */
export interface ConfigField {
  label: string;
  value: unknown;
  default_value: unknown;
  type: ConfigFieldType;
  display: ConfigFieldDisplay;
  options: { label: string; value: unknown }[];
  order: number;
  required: boolean;
  sensitive: boolean;
  tooltip: string | null;
  depends_on: DependsOn[];
  validations: FieldValidation[];
  ui_restrictions: string[];
  placeholder?: string;
  category?: string;
}

/** What a source declares per field; the framework fills the rest with defaults (spec §2.1). */
export type ConfigFieldSpec = Partial<ConfigField>;

/** The default configuration a source class returns: field key → partial field. */
export type ConfigurationSpec = Record<string, ConfigFieldSpec>;

/** The configuration a source receives: field key → complete field, `value` coerced. */
export type SourceConfiguration = Record<string, ConfigField>;

/** A document a source yields. `_id` is required; `_timestamp` (ISO-8601) is recommended. */
export interface Document {
  _id: string | number;
  _timestamp?: string;
  [field: string]: unknown;
}

/**
 * Fetches a document's binary content on demand. Called only when extraction is wanted (`doit`
 * true). Returns fields to merge, usually `_attachment` (base64), or undefined to skip.
 */
export type LazyDownload = (
  doit: boolean,
  timestamp?: string,
) => Promise<Record<string, unknown> | undefined | null>;

/** What `getDocs()` yields: a plain document, or a `[document, lazyDownload]` pair. */
export type DocItem = Document | readonly [Document, LazyDownload | null | undefined];

/** What an incremental sync does with a document. */
export type SyncOperation = "index" | "update" | "delete";

/** What `getDocsIncrementally()` yields: `[document, lazyDownload, operation]`. */
export type IncrementalItem = readonly [Document, LazyDownload | null | undefined, SyncOperation];

/**
 * An access-control document (spec §5.6): one per user of the backend, written by an
 * access-control sync into the connector's `.search-acl-filter-<index>` index. `_id` is the
 * user's id; `identity` describes the user; `query` holds the document-level-security query
 * (see `accessControlQuery()`) that search applications apply for this user. `_timestamp` and
 * `created_at` (ISO-8601) are optional; any other field is stored as given.
 */
export interface AccessControlDocument extends Document {
  /** What identifies the user, e.g. `{ email: "...", username: "..." }`. */
  identity?: Record<string, unknown>;
  /** `{ template: { source, params: { access_control: [identities] } } }`. */
  query?: Record<string, unknown>;
  /** When the user was created in the backend (mapped as `date` in the ACL index). */
  created_at?: string;
}

/** A basic sync rule (spec §5.7). */
export interface BasicRule {
  id: string;
  policy: "include" | "exclude";
  field: string;
  rule: "equals" | "contains" | "starts_with" | "ends_with" | "regex" | "<" | ">";
  value: string;
  order: number;
  created_at?: string;
  updated_at?: string;
}

/** The sync rules a job runs with: the connector's active filtering snapshot. */
export interface Filtering {
  rules: BasicRule[];
  advanced_snippet: { value?: unknown; created_at?: string; updated_at?: string };
  validation?: { state: string; errors: { ids: string[]; messages: string[] }[] };
}

/** One advanced-rules problem found by a source. */
export interface AdvancedRuleError {
  /** Human-readable message shown in Kibana. */
  message: string;
}

/** Features a source class declares; they fill the connector's `features`. */
export interface SourceFeatures {
  basicRules: boolean;
  advancedRules: boolean;
  incrementalSync: boolean;
  documentLevelSecurity: boolean;
}

/** What the framework hands a source besides its configuration. */
export interface SourceContext {
  /** Logger carrying connector and job ids. */
  logger: Logger;
  /** Bytes a lazy download may fetch (`service.max_file_download_size`). */
  maxFileSize: number;
  /** Aborted when the job is canceled or the service shuts down. */
  signal: AbortSignal;
  /** The connector's stored `sync_cursor`, so that `changed()` can compare against it. */
  syncCursor?: unknown;
  /** Workers for CPU-heavy work (hashing, parsing, encoding), shared by the process's sources. */
  workers?: WorkerPool;
}

/** An instance of a data source (spec §7). Optional members have framework defaults. */
export interface DataSource {
  /** Throws when the backend is unreachable or refuses the credentials. */
  ping(): Promise<void>;
  /** Streams every document of a full sync. */
  getDocs(filtering?: Filtering): AsyncIterable<DocItem>;
  /**
   * False when nothing changed since the last sync; the job then completes at once. The
   * framework calls it without arguments: the stored cursor is `SourceContext.syncCursor`
   * (`cursor` exists for callers outside a sync). Answer true when you cannot tell.
   */
  changed?(cursor?: unknown): Promise<boolean>;
  /** Streams the changes since `cursor` (incremental sync). */
  getDocsIncrementally?(cursor: unknown, filtering?: Filtering): AsyncIterable<IncrementalItem>;
  /**
   * Streams the access-control documents (one per user, see {@linkcode AccessControlDocument})
   * of an access-control sync; needed for document-level security. The sync writes exactly
   * these into `.search-acl-filter-<index>` and deletes the documents it did not yield.
   *
   * @example
   * ```ts
   * import { accessControlQuery, type DataSource, type Document } from "./mod.ts";
   * const source: DataSource = {
   *   ping: () => Promise.resolve(),
   *   async *getDocs() {},
   *   async *getAccessControl(): AsyncGenerator<Document> {
   *     const identities = ["email:ada@example.com", "group:admins"];
   *     yield { _id: "ada", identity: { email: "ada@example.com" }, ...accessControlQuery(identities) };
   *   },
   * };
   * for await (const user of source.getAccessControl!()) if (user._id !== "ada") throw new Error();
   * ```
   */
  getAccessControl?(): AsyncIterable<Document>;
  /** The cursor to store after a completed sync. */
  syncCursor?(): unknown;
  /** Source-specific checks beyond the framework's field validation; throws with a message. */
  validateConfig?(): Promise<void>;
  /** Checks an advanced-rules snippet; returns the problems found (empty when valid). */
  validateAdvancedRules?(snippet: unknown): Promise<AdvancedRuleError[]>;
  /** Releases clients and files. */
  close?(): Promise<void>;
}

/** A data source class as `config.yml` names it. */
export interface DataSourceClass {
  new (configuration: SourceConfiguration, context?: SourceContext): DataSource;
  /** The configuration schema written into a new connector. */
  getDefaultConfiguration(): ConfigurationSpec;
  /** Display name. */
  readonly displayName?: string;
  /** Declared features; missing ones default to basic rules only. */
  readonly features?: Partial<SourceFeatures>;
}
