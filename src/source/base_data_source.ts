/**
 * {@linkcode BaseDataSource}: the optional base class of a data source, with the framework's
 * defaults for every member of the contract (spec §7).
 *
 * @module
 */
import { DEFAULT_MAX_FILE_DOWNLOAD_SIZE } from "../config/defaults.ts";
import type { Logger } from "../log/mod.ts";
import { nullLogger } from "../log/mod.ts";
import type {
  AdvancedRuleError,
  ConfigurationSpec,
  DataSource,
  DocItem,
  Document,
  Filtering,
  IncrementalItem,
  SourceConfiguration,
  SourceContext,
  SourceFeatures,
} from "./types.ts";

/**
 * A context for sources built outside a sync (tests, `deno repl`): a silent logger, the default
 * download cap and a signal that never aborts.
 *
 * @example
 * ```ts
 * import { standaloneContext } from "./base_data_source.ts";
 * if (standaloneContext().signal.aborted) throw new Error();
 * ```
 */
export function standaloneContext(overrides: Partial<SourceContext> = {}): SourceContext {
  return {
    logger: nullLogger,
    maxFileSize: DEFAULT_MAX_FILE_DOWNLOAD_SIZE,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/**
 * Base class of a data source. Subclasses override `getDefaultConfiguration()`, `ping()` and
 * `getDocs()`, and optionally `changed()`, `getDocsIncrementally()` (update `this.cursor`
 * while yielding), `getAccessControl()` (document-level security), `validateConfig()`,
 * `validateAdvancedRules()` and `close()`. Extending it is optional: the framework checks the
 * contract structurally.
 *
 * The constructor receives the connector's configuration with every `value` coerced to its
 * field type, and must not do I/O.
 *
 * @example
 * ```ts
 * import { BaseDataSource, type ConfigurationSpec, type DocItem } from "./mod.ts";
 *
 * class NumbersDataSource extends BaseDataSource {
 *   static override displayName = "Numbers";
 *   static override getDefaultConfiguration(): ConfigurationSpec {
 *     return { count: { label: "How many", type: "int", value: 3 } };
 *   }
 *   override async ping(): Promise<void> {}
 *   override async *getDocs(): AsyncGenerator<DocItem> {
 *     for (let i = 0; i < this.value<number>("count"); i++) yield { _id: String(i), n: i };
 *   }
 * }
 *
 * const source = new NumbersDataSource({
 *   count: { ...NumbersDataSource.getDefaultConfiguration().count, value: 2 } as never,
 * });
 * const ids: unknown[] = [];
 * for await (const doc of source.getDocs()) ids.push((doc as { _id: string })._id);
 * if (ids.join() !== "0,1") throw new Error();
 * ```
 */
export class BaseDataSource implements DataSource {
  /** Display name (Elastic's `name`). */
  static displayName = "";
  /** Declared features; missing ones default to basic sync rules only. */
  static features: Partial<SourceFeatures> = {};

  /** The configuration schema written into a new connector: field key → partial field. */
  static getDefaultConfiguration(): ConfigurationSpec {
    return {};
  }

  /** The connector's configuration, values coerced to their field types. */
  protected readonly configuration: SourceConfiguration;
  /** What the framework handed over besides the configuration. */
  protected readonly context: SourceContext;
  /** The incremental-sync cursor; {@linkcode syncCursor} returns it after a completed sync. */
  protected cursor: unknown = undefined;

  /** Streams the changes since `cursor`; declare it in a subclass to support incremental sync. */
  getDocsIncrementally?(cursor: unknown, filtering?: Filtering): AsyncIterable<IncrementalItem>;

  /**
   * Streams one access-control document per user for an access-control sync; declare it in a
   * subclass (with `static features = { documentLevelSecurity: true }`) to support
   * document-level security. Content documents then list who may see them in
   * `_allow_access_control` (identity strings such as `"email:ada@example.com"`).
   *
   * @example
   * ```ts
   * import {
   *   accessControlQuery,
   *   BaseDataSource,
   *   type DocItem,
   *   type Document,
   *   prefixIdentity,
   * } from "./mod.ts";
   *
   * const USERS = [{ id: "u1", email: "ada@example.com", groups: ["admins"] }];
   *
   * class TeamDataSource extends BaseDataSource {
   *   static override features = { documentLevelSecurity: true };
   *   override async ping(): Promise<void> {}
   *   override async *getDocs(): AsyncGenerator<DocItem> {
   *     yield { _id: "d1", title: "Roadmap", _allow_access_control: ["group:admins"] };
   *   }
   *   override async *getAccessControl(): AsyncGenerator<Document> {
   *     for (const user of USERS) {
   *       const identities = [
   *         prefixIdentity("email", user.email),
   *         ...user.groups.map((group) => prefixIdentity("group", group)),
   *       ];
   *       yield {
   *         _id: user.id,
   *         identity: { email: user.email },
   *         created_at: "2024-01-01T00:00:00Z",
   *         ...accessControlQuery(identities),
   *       };
   *     }
   *   }
   * }
   *
   * const users: Document[] = [];
   * for await (const user of new TeamDataSource({}).getAccessControl()) users.push(user);
   * if (users[0]?._id !== "u1") throw new Error();
   * ```
   */
  getAccessControl?(): AsyncIterable<Document>;

  constructor(configuration: SourceConfiguration, context?: SourceContext) {
    this.configuration = configuration ?? {};
    this.context = context ?? standaloneContext();
  }

  /** Logger carrying connector and job ids. */
  protected get logger(): Logger {
    return this.context.logger;
  }

  /** Aborted when the job is canceled or the service shuts down. */
  protected get signal(): AbortSignal {
    return this.context.signal;
  }

  /**
   * The value of a field; falls back to the class schema's `value` when the connector lacks the
   * key (as Elastic's `DataSourceConfiguration` does).
   */
  protected value<T = unknown>(key: string): T {
    const field = this.configuration[key];
    if (field) return field.value as T;
    const cls = this.constructor as typeof BaseDataSource;
    return cls.getDefaultConfiguration()[key]?.value as T;
  }

  /** Throws when the backend is unreachable or refuses the credentials. */
  ping(): Promise<void> {
    return Promise.reject(new Error(`${this.constructor.name}.ping() is not implemented`));
  }

  /** False when nothing changed since the last sync; the job then completes at once. */
  changed(): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** Streams every document of a full sync: plain documents or `[document, lazyDownload]`. */
  // deno-lint-ignore require-yield
  async *getDocs(_filtering?: Filtering): AsyncGenerator<DocItem> {
    throw new Error(`${this.constructor.name}.getDocs() is not implemented`);
  }

  /** The cursor to store on the connector after a completed sync. */
  syncCursor(): unknown {
    return this.cursor;
  }

  /** Source-specific checks beyond the framework's field validation; throws with a message. */
  validateConfig(): Promise<void> {
    return Promise.resolve();
  }

  /** Checks an advanced-rules snippet; returns the problems found (empty when valid). */
  validateAdvancedRules(_snippet: unknown): Promise<AdvancedRuleError[]> {
    return Promise.resolve([]);
  }

  /** Releases clients and files. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
