/**
 * The MongoDB source (`mongodb`): streams one collection into the content index.
 *
 * - Configuration fields as Elastic's framework names them (`host`, `user`, `password`,
 *   `database`, `collection`, `direct_connection`, `ssl_enabled`, `ssl_ca`, `tls_insecure`), plus
 *   `timestamp_field`, `incremental_field` and `batch_size`.
 * - Documents are streamed with a cursor in batches of `batch_size`; BSON is converted as
 *   described in `_bson.ts` (ObjectId `_id` → hex string, Decimal128 kept exact, ...).
 * - Advanced sync rules: `{"find": {"filter", "projection", "sort", ...}}` or
 *   `{"aggregate": {"pipeline": [...], ...}}`, validated before the sync.
 * - Incremental sync when the collection has a monotonic field (`incremental_field`, e.g. an
 *   `updated_at` date the application sets on every write, or `_id` for insert-only data): the
 *   cursor keeps the field's largest value, read before streaming; the next incremental sync
 *   indexes the documents whose value is at least that. Deletes are not seen incrementally (a
 *   full sync removes them).
 * - `changed(cursor)` uses a change stream on servers that have them (replica sets, sharded
 *   clusters) and otherwise compares the document count and the field's largest value with the
 *   cursor; whenever it cannot tell, it answers true.
 *
 * Credentials are passed to the driver as options, never inside the URI, and no message or
 * log line carries them.
 *
 * @example
 * ```ts ignore
 * import { MongoDataSource } from "./mod.ts";
 * import { createSource, standaloneContext } from "../../src/source/mod.ts";
 * const source = createSource(MongoDataSource, {
 *   host: "mongodb://127.0.0.1:27017", database: "shop", collection: "products",
 * }, standaloneContext());
 * await source.ping();
 * for await (const doc of source.getDocs()) console.log(doc);
 * await source.close?.();
 * ```
 *
 * @module
 */
import {
  type AggregationCursor,
  type Collection,
  type Document as BsonDocument,
  type FindCursor,
  MongoClient,
  type MongoClientOptions,
  Timestamp,
} from "mongodb";
import {
  type AdvancedRuleError,
  BaseDataSource,
  type ConfigurationSpec,
  ConfigurationValidationError,
  type DocItem,
  type Document,
  FatalError,
  type Filtering,
  type IncrementalItem,
  registerSecret,
  registerUrlSecrets,
  SkippableError,
  type SourceFeatures,
} from "../../src/source/mod.ts";
import {
  bsonToJson,
  decodeCursorValue,
  documentIdOf,
  encodeCursorValue,
  isTaggedValue,
  type JsonValue,
  type TaggedValue,
  timestampOf,
  valueAtPath,
} from "./_bson.ts";
import { type ConnectionFacts, describeMongoError, redactUri } from "./_errors.ts";
import { type MongoRule, parseAdvancedRules } from "./_rules.ts";

export { bsonToJson, exactNumber } from "./_bson.ts";
export { parseAdvancedRules } from "./_rules.ts";

/** Documents fetched per round trip when `batch_size` is not set. */
export const DEFAULT_MONGODB_BATCH_SIZE = 1000;
/** Largest `batch_size` accepted (the server caps a batch at 16 MiB anyway). */
export const MAX_MONGODB_BATCH_SIZE = 100000;
/** Connections the source keeps open to each server. */
export const DEFAULT_MONGODB_POOL_SIZE = 4;
/** Milliseconds `changed()` waits for a change-stream event before answering "no change". */
export const DEFAULT_CHANGE_STREAM_WAIT_MS = 1000;
/** Milliseconds the server may spend counting the collection for the cursor. */
export const DEFAULT_COUNT_MAX_TIME_MS = 30000;
/** Version of the cursor layout; other versions are ignored (the next sync indexes everything). */
export const MONGODB_CURSOR_VERSION = 1;
/** `appName` the source announces to the server (visible in `currentOp` and server logs). */
export const MONGODB_APP_NAME = "connectors-deno";

/** The sync cursor this source stores on the connector (spec §5.5). */
export interface MongoSyncCursor {
  version: number;
  database: string;
  collection: string;
  /** The `incremental_field` the cursor tracks. */
  field: string;
  /** The field's largest value when the last sync started; null for an empty collection. */
  last_value: TaggedValue | null;
  /** Documents in the collection when the last sync started. */
  count: number;
  /** The server's operation time (`t:i`) when the last sync started, on servers with change streams. */
  cluster_time?: string;
  /** When the last sync started. */
  synced_at: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Normalises a PEM certificate that lost its line breaks in a one-line text box (as Elastic's
 * `get_pem_format` does); other text is returned unchanged.
 *
 * @example
 * ```ts
 * import { pemFormat } from "./mod.ts";
 * const pem = pemFormat("-----BEGIN CERTIFICATE----- AAA BBB -----END CERTIFICATE-----");
 * if (pem !== "-----BEGIN CERTIFICATE-----\nAAA\nBBB\n-----END CERTIFICATE-----\n") throw new Error();
 * ```
 */
export function pemFormat(text: string): string {
  const blocks = [...text.matchAll(/(-----BEGIN [^-]+-----)([\s\S]*?)(-----END [^-]+-----)/g)];
  if (blocks.length === 0) return text;
  return blocks.map((m) => {
    const body = m[2]!.trim().split(/\s+/).filter((part) => part !== "");
    return `${m[1]}\n${body.join("\n")}\n${m[3]}\n`;
  }).join("");
}

/** A PEM certificate block whose body is base64 (what `ssl_ca` must hold). */
const PEM_CERTIFICATE =
  /-----BEGIN [A-Z0-9 ]*CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END [A-Z0-9 ]*CERTIFICATE-----/;

/**
 * True when `text` (as typed, line breaks possibly lost) holds at least one PEM certificate.
 *
 * @example
 * ```ts
 * import { isPemCertificate } from "./mod.ts";
 * if (!isPemCertificate("-----BEGIN CERTIFICATE----- MIIB AAAA -----END CERTIFICATE-----")) throw new Error();
 * if (isPemCertificate("/etc/ssl/ca.pem") || isPemCertificate("-----BEGIN CERTIFICATE----- ?! -----END CERTIFICATE-----")) throw new Error();
 * ```
 */
export function isPemCertificate(text: string): boolean {
  return PEM_CERTIFICATE.test(pemFormat(text));
}

/**
 * What is wrong with a `host` value before any connection, or undefined: a URL of another
 * scheme (`http://...`), or a string the driver cannot parse. Never shows credentials.
 *
 * @example
 * ```ts
 * import { hostProblem } from "./mod.ts";
 * if (hostProblem("mongodb://db1:27017,db2:27017/?replicaSet=rs0") !== undefined) throw new Error();
 * if (hostProblem("db:27017") !== undefined) throw new Error();
 * if (!hostProblem("http://db.example.com")?.includes("got a http:// URL")) throw new Error();
 * if (!hostProblem("mongodb://db:notaport")?.includes("not a valid MongoDB connection string")) throw new Error();
 * ```
 */
export function hostProblem(host: string): string | undefined {
  const trimmed = host.trim();
  if (trimmed === "") return undefined; // the framework reports a required field left empty
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1];
  if (scheme !== undefined && !/^mongodb(\+srv)?$/i.test(scheme)) {
    return `must be a mongodb:// or mongodb+srv:// connection string or host:port, got a ${scheme.toLowerCase()}:// URL`;
  }
  try {
    // Parses the string and its options; connects nothing.
    new MongoClient(connectionUri(trimmed));
  } catch (error) {
    const detail = redactUri((error as Error).message ?? String(error)).replace(/\s+/g, " ");
    return `is not a valid MongoDB connection string (${detail.trim()})`;
  }
  return undefined;
}

/**
 * The connection string the driver receives: `host` as configured when it is a
 * `mongodb://` or `mongodb+srv://` URI, else `mongodb://<host>`.
 *
 * @example
 * ```ts
 * import { connectionUri } from "./mod.ts";
 * if (connectionUri("db1:27017,db2:27017") !== "mongodb://db1:27017,db2:27017") throw new Error();
 * ```
 */
export function connectionUri(host: string): string {
  const trimmed = host.trim();
  return /^mongodb(\+srv)?:\/\//i.test(trimmed) ? trimmed : `mongodb://${trimmed}`;
}

/** The host list of a URI, without scheme, credentials, path or options (for messages). */
function hostsOf(uri: string): string {
  // Cut at the last "@" first: an unescaped "/" in a password must not leak into messages.
  const rest = uri.replace(/^mongodb(\+srv)?:\/\//i, "").split("?")[0] ?? "";
  return rest.slice(rest.lastIndexOf("@") + 1).split("/")[0] || "(no host)";
}

/** The user name of a URI's user-info part, or "". */
function uriUser(uri: string): string {
  const rest = uri.replace(/^mongodb(\+srv)?:\/\//i, "").split("?")[0] ?? "";
  if (!rest.includes("@")) return "";
  const info = rest.slice(0, rest.lastIndexOf("@"));
  const user = info.includes(":") ? info.slice(0, info.indexOf(":")) : info;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/**
 * Registers the password of a URI's user-info part as a secret, so no log line shows it (cut at
 * the last `@` before the options, so that a seed list or an unescaped `/` still counts).
 */
function registerUriSecret(uri: string): void {
  registerUrlSecrets(uri);
  const rest = uri.trim().replace(/^mongodb(\+srv)?:\/\//i, "").split("?")[0] ?? "";
  const info = rest.includes("@") ? rest.slice(0, rest.lastIndexOf("@")) : undefined;
  if (!info || !info.includes(":")) return;
  const password = info.slice(info.indexOf(":") + 1);
  registerSecret(password);
  try {
    registerSecret(decodeURIComponent(password));
  } catch {
    // a malformed escape is registered as written
  }
}

/**
 * The MongoDB data source (service type `mongodb`).
 *
 * @example
 * ```ts
 * import { MongoDataSource } from "./mod.ts";
 * import { createSource, standaloneContext } from "../../src/source/mod.ts";
 * const source = createSource(MongoDataSource, {
 *   host: "127.0.0.1:27017", database: "shop", collection: "products",
 * }, standaloneContext());
 * const problems = await source.validateAdvancedRules!({ find: { filter: [] } });
 * if (problems.length !== 1) throw new Error();
 * await source.close?.();
 * ```
 */
export class MongoDataSource extends BaseDataSource {
  static override displayName = "MongoDB";
  static override features: Partial<SourceFeatures> = {
    basicRules: true,
    advancedRules: true,
    incrementalSync: true,
    documentLevelSecurity: false,
  };

  /** The configuration schema (Elastic's field names and order, then ours). */
  static override getDefaultConfiguration(): ConfigurationSpec {
    return {
      host: {
        label: "Server hostname",
        order: 1,
        type: "str",
        tooltip:
          "A mongodb:// or mongodb+srv:// connection string, or host:port. Driver options may follow '?', e.g. ?serverSelectionTimeoutMS=5000.",
      },
      user: { label: "Username", order: 2, required: false, type: "str" },
      password: { label: "Password", order: 3, required: false, sensitive: true, type: "str" },
      database: { label: "Database", order: 4, type: "str" },
      collection: { label: "Collection", order: 5, type: "str" },
      direct_connection: {
        display: "toggle",
        label: "Direct connection",
        order: 6,
        type: "bool",
        value: false,
      },
      ssl_enabled: {
        display: "toggle",
        label: "SSL/TLS Connection",
        order: 7,
        tooltip:
          "Connect with TLS. mongodb+srv:// connection strings use TLS unless the string says tls=false.",
        type: "bool",
        value: false,
      },
      ssl_ca: {
        depends_on: [{ field: "ssl_enabled", value: true }],
        label: "Certificate Authority (.pem)",
        order: 8,
        required: false,
        tooltip: "The PEM text of the CA certificate that signed the server's certificate.",
        type: "str",
      },
      tls_insecure: {
        display: "toggle",
        depends_on: [{ field: "ssl_enabled", value: true }],
        label: "Skip certificate verification",
        order: 9,
        tooltip: "Skips TLS certificate validation. Only for testing.",
        type: "bool",
        ui_restrictions: ["advanced"],
        value: false,
      },
      timestamp_field: {
        label: "Timestamp field",
        order: 10,
        required: false,
        tooltip:
          "Field (dotted path allowed) whose date becomes the document's _timestamp, e.g. updated_at.",
        type: "str",
        ui_restrictions: ["advanced"],
      },
      incremental_field: {
        label: "Incremental sync field",
        order: 11,
        required: false,
        tooltip:
          "A field whose value grows on every insert and update (e.g. updated_at), or _id for insert-only collections. Needed for incremental syncs; index it, as every sync reads its largest value.",
        type: "str",
        ui_restrictions: ["advanced"],
      },
      batch_size: {
        default_value: DEFAULT_MONGODB_BATCH_SIZE,
        display: "numeric",
        label: "Batch size",
        order: 12,
        required: false,
        tooltip: "Documents fetched per round trip.",
        type: "int",
        ui_restrictions: ["advanced"],
        validations: [
          { type: "greater_than", constraint: 0 },
          { type: "less_than", constraint: MAX_MONGODB_BATCH_SIZE + 1 },
        ],
      },
    };
  }

  #client: MongoClient | undefined;
  #connected: Promise<MongoClient> | undefined;
  #changeStreams: boolean | undefined;

  /** Host list for messages: no credentials, no options. */
  get #facts(): ConnectionFacts {
    const uri = connectionUri(this.#string("host"));
    return {
      hosts: hostsOf(uri),
      user: this.#string("user") || uriUser(uri),
      tls: this.value<boolean>("ssl_enabled") === true,
    };
  }

  #string(key: string): string {
    const value = this.value<unknown>(key);
    return typeof value === "string" ? value.trim() : "";
  }

  #options(): MongoClientOptions {
    const options: MongoClientOptions = {
      appName: MONGODB_APP_NAME,
      maxPoolSize: DEFAULT_MONGODB_POOL_SIZE,
    };
    if (this.value<boolean>("direct_connection") === true) options.directConnection = true;
    const user = this.#string("user");
    const password = this.value<string>("password") ?? "";
    if (user !== "" || password !== "") {
      registerSecret(password);
      options.auth = { username: user, password };
    }
    if (this.value<boolean>("ssl_enabled") === true) {
      options.tls = true;
      const ca = this.#string("ssl_ca");
      if (ca !== "") options.ca = pemFormat(ca);
      if (this.value<boolean>("tls_insecure") === true) options.tlsInsecure = true;
    }
    return options;
  }

  /** `'Label' (key)` of a field, for messages. */
  #name(key: string): string {
    const label = MongoDataSource.getDefaultConfiguration()[key]?.label ?? key.toUpperCase();
    return `'${label}' (${key})`;
  }

  /**
   * Problems of the settings that need no server: the form of `host` and, with TLS on, that
   * `ssl_ca` holds a PEM certificate (a path or a truncated paste would only show up as a
   * failed handshake).
   */
  #settingProblems(): string[] {
    const problems: string[] = [];
    const host = hostProblem(this.#string("host"));
    if (host) problems.push(`${this.#name("host")} ${host}`);
    const ca = this.#string("ssl_ca");
    if (this.value<boolean>("ssl_enabled") === true && ca !== "" && !isPemCertificate(ca)) {
      problems.push(
        `${
          this.#name("ssl_ca")
        } is not a PEM certificate: paste the certificate text, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----`,
      );
    }
    return problems;
  }

  /** Connects once (lazily: the constructor does no I/O); errors carry clear messages. */
  async #connect(action: string): Promise<MongoClient> {
    // Settings that cannot work fail here, naming the field, before any connection attempt.
    const problems = this.#settingProblems();
    if (problems.length > 0) throw new ConfigurationValidationError(problems);
    if (!this.#connected) {
      this.#connected = (async () => {
        const uri = connectionUri(this.#string("host"));
        registerUriSecret(uri);
        try {
          this.#client = new MongoClient(uri, this.#options());
          return await this.#client.connect();
        } catch (error) {
          const client = this.#client;
          this.#client = undefined;
          await client?.close().catch(() => {});
          throw error;
        }
      })();
      this.#connected.catch(() => {
        this.#connected = undefined;
      });
    }
    try {
      return await this.#connected;
    } catch (error) {
      throw describeMongoError(error, this.#facts, action);
    }
  }

  async #collection(action: string): Promise<Collection> {
    const client = await this.#connect(action);
    return client.db(this.#string("database")).collection(this.#string("collection"));
  }

  /** Runs a driver call, turning its failure into a clear, credential-free error. */
  async #call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (this.signal.aborted) throw this.signal.reason;
      if (error instanceof FatalError || error instanceof SkippableError) throw error;
      throw describeMongoError(error, this.#facts, action);
    }
  }

  /** Checks that the server answers and accepts the credentials. */
  override async ping(): Promise<void> {
    const client = await this.#connect("ping MongoDB");
    await this.#call(
      "ping MongoDB",
      () => client.db("admin").command({ ping: 1 }, { signal: this.signal }),
    );
    this.logger.debug(`MongoDB at ${this.#facts.hosts} answered ping`);
  }

  /** Checks that the configured database and collection exist and are readable. */
  override async validateConfig(): Promise<void> {
    const database = this.#string("database");
    const collection = this.#string("collection");
    const client = await this.#connect("validate the MongoDB configuration");
    const action = `read database '${database}'`;
    const names = await this.#call(
      action,
      () => client.db(database).listCollections({}, { nameOnly: true }).toArray(),
    );
    if (names.some((c) => c.name === collection)) return;
    let databases: string[];
    try {
      const listed = await client.db("admin").admin().listDatabases({ nameOnly: true });
      databases = listed.databases.map((d) => d.name);
    } catch (error) {
      if ((error as { code?: unknown }).code === 13) {
        throw new FatalError(
          `Database '${database}' or collection '${collection}' is not accessible by user '${this.#facts.user}'. Check that they exist and that the user may read them`,
        );
      }
      throw describeMongoError(error, this.#facts, "list the MongoDB databases");
    }
    if (!databases.includes(database)) {
      throw new FatalError(
        `Database '${database}' does not exist on ${this.#facts.hosts}. Existing databases: ${
          databases.join(", ") || "(none)"
        }`,
      );
    }
    throw new FatalError(
      `Collection '${collection}' does not exist in database '${database}'. Existing collections: ${
        names.map((c) => c.name).join(", ") || "(none)"
      }`,
    );
  }

  /** Checks an advanced-rules snippet (`find` or `aggregate`); returns one entry per problem. */
  override validateAdvancedRules(snippet: unknown): Promise<AdvancedRuleError[]> {
    return Promise.resolve(parseAdvancedRules(snippet).problems.map((message) => ({ message })));
  }

  #rule(filtering?: Filtering): MongoRule | undefined {
    const { rule, problems } = parseAdvancedRules(filtering?.advanced_snippet?.value);
    if (problems.length > 0) {
      throw new FatalError(`Invalid advanced sync rules: ${problems.join("; ")}`);
    }
    return rule;
  }

  #batchSize(): number {
    const size = this.value<number | null>("batch_size");
    return typeof size === "number" && Number.isInteger(size) && size > 0
      ? Math.min(size, MAX_MONGODB_BATCH_SIZE)
      : DEFAULT_MONGODB_BATCH_SIZE;
  }

  /** Converts a raw document: `_id` → id string, BSON → JSON, `_timestamp` from the field. */
  #toDocument(raw: BsonDocument): Document {
    if (!("_id" in raw) || raw._id === undefined || raw._id === null) {
      throw new FatalError(
        "A document without _id came from MongoDB; advanced rules must keep the _id field (do not project it away or replace it in a $group without an _id)",
      );
    }
    const { _id, ...rest } = raw;
    const body = bsonToJson(rest) as Record<string, JsonValue>;
    const doc: Document = { ...body, _id: documentIdOf(_id) };
    const timestampField = this.#string("timestamp_field");
    if (timestampField !== "") {
      const timestamp = timestampOf(valueAtPath(raw, timestampField));
      if (timestamp) doc._timestamp = timestamp;
    }
    return doc;
  }

  /** Streams documents matching the rule and, for incremental syncs, the lower bound. */
  async *#stream(
    collection: Collection,
    rule: MongoRule | undefined,
    bound: BsonDocument | undefined,
  ): AsyncGenerator<Document> {
    const batchSize = this.#batchSize();
    const signal = this.signal;
    let cursor: FindCursor | AggregationCursor;
    if (rule?.kind === "aggregate") {
      const pipeline = bound ? [{ $match: bound }, ...rule.pipeline] : rule.pipeline;
      cursor = collection.aggregate(pipeline, { batchSize, ...rule.options, signal });
    } else {
      const base = rule?.filter ?? {};
      const filter = bound ? (Object.keys(base).length ? { $and: [base, bound] } : bound) : base;
      cursor = collection.find(filter, { batchSize, ...(rule?.options ?? {}), signal });
    }
    const action = `read collection '${this.#string("database")}.${this.#string("collection")}'`;
    let count = 0;
    try {
      while (true) {
        signal.throwIfAborted();
        const raw = await this.#call(action, () => cursor.next());
        if (raw === null) break;
        count++;
        yield this.#toDocument(raw);
      }
    } finally {
      await cursor.close().catch(() => {});
    }
    this.logger.debug(
      `Read ${count} documents from MongoDB collection ${this.#string("collection")}`,
    );
  }

  /** Streams every document of the collection (or what the advanced rules select). */
  override async *getDocs(filtering?: Filtering): AsyncGenerator<DocItem> {
    const rule = this.#rule(filtering);
    const collection = await this.#collection("start the MongoDB sync");
    this.logger.info(
      `Reading MongoDB collection ${this.#string("database")}.${
        this.#string("collection")
      } at ${this.#facts.hosts}${rule ? ` with an advanced ${rule.kind} rule` : ""}`,
    );
    await this.#snapshotCursor(collection, false);
    for await (const doc of this.#stream(collection, rule, undefined)) yield doc;
  }

  /**
   * Streams the documents whose `incremental_field` is at least the cursor's value, as index
   * operations. Without a usable cursor (first sync, changed collection or field) every
   * document is indexed.
   */
  override async *getDocsIncrementally(
    cursor: unknown,
    filtering?: Filtering,
  ): AsyncGenerator<IncrementalItem> {
    const field = this.#string("incremental_field");
    if (field === "") {
      throw new FatalError(
        "Incremental sync of MongoDB needs the 'Incremental sync field' (incremental_field) setting, e.g. updated_at; run a full sync or set the field",
      );
    }
    const rule = this.#rule(filtering);
    const collection = await this.#collection("start the MongoDB incremental sync");
    const previous = this.#parseCursor(cursor);
    if (!previous) {
      this.logger.info(
        `No usable sync cursor for ${this.#string("database")}.${
          this.#string("collection")
        } by ${field}: indexing every document`,
      );
    }
    await this.#snapshotCursor(collection, true);
    const bound = previous?.last_value
      ? { [field]: { $gte: decodeCursorValue(previous.last_value) } }
      : undefined;
    for await (const doc of this.#stream(collection, rule, bound)) yield [doc, null, "index"];
  }

  /** Reads the field's largest value and the count before streaming; stores them as the cursor. */
  async #snapshotCursor(collection: Collection, required: boolean): Promise<void> {
    const field = this.#string("incremental_field");
    if (field === "") return;
    const snapshot = await this.#snapshot(collection, field);
    if (snapshot.rawMax !== undefined && snapshot.rawMax !== null && !snapshot.lastValue) {
      const message = `Field '${field}' holds a value that cannot order documents (${typeof snapshot
        .rawMax}); use a date, number, string or ObjectId field for incremental sync`;
      if (required) throw new FatalError(message);
      this.logger.warning(`${message}; no sync cursor is stored`);
      return;
    }
    const cursor: MongoSyncCursor = {
      version: MONGODB_CURSOR_VERSION,
      database: this.#string("database"),
      collection: this.#string("collection"),
      field,
      last_value: snapshot.lastValue ?? null,
      count: snapshot.count,
      synced_at: new Date().toISOString(),
    };
    if (snapshot.clusterTime) cursor.cluster_time = snapshot.clusterTime;
    this.cursor = cursor;
  }

  async #snapshot(collection: Collection, field: string): Promise<{
    rawMax: unknown;
    lastValue: TaggedValue | undefined;
    count: number;
    clusterTime: string | undefined;
  }> {
    const signal = this.signal;
    const action = `read the largest '${field}' of collection '${this.#string("collection")}'`;
    const clusterTime = await this.#clusterTime();
    const top = await this.#call(action, () =>
      collection.find({ [field]: { $exists: true } }, {
        projection: { [field]: 1 },
        sort: { [field]: -1 },
        limit: 1,
        signal,
      }).toArray());
    const rawMax = top[0] ? valueAtPath(top[0], field) : undefined;
    // From the collection's metadata: a full count would scan the whole collection.
    const count = await this.#call(
      action,
      () => collection.estimatedDocumentCount({ maxTimeMS: DEFAULT_COUNT_MAX_TIME_MS }),
    );
    return { rawMax, lastValue: encodeCursorValue(rawMax), count, clusterTime };
  }

  /** True on servers with change streams (replica sets and sharded clusters). */
  async #supportsChangeStreams(): Promise<boolean> {
    if (this.#changeStreams === undefined) {
      const client = await this.#connect("ask MongoDB for its topology");
      const hello = await this.#call(
        "ask MongoDB for its topology",
        () => client.db("admin").command({ hello: 1 }, { signal: this.signal }),
      );
      this.#changeStreams = typeof hello.setName === "string" || hello.msg === "isdbgrid";
    }
    return this.#changeStreams;
  }

  /** The server's operation time as `t:i`, on servers with change streams. */
  async #clusterTime(): Promise<string | undefined> {
    if (!(await this.#supportsChangeStreams())) return undefined;
    const client = await this.#connect("read the MongoDB cluster time");
    const reply = await this.#call(
      "read the MongoDB cluster time",
      () => client.db("admin").command({ ping: 1 }, { signal: this.signal }),
    );
    const time = reply.operationTime ?? reply.$clusterTime?.clusterTime;
    return time instanceof Timestamp ? `${time.t}:${time.i}` : undefined;
  }

  /** The stored cursor when it belongs to this database, collection and field. */
  #parseCursor(cursor: unknown): MongoSyncCursor | undefined {
    if (!isPlainObject(cursor)) return undefined;
    const c = cursor as Partial<MongoSyncCursor>;
    if (
      c.version !== MONGODB_CURSOR_VERSION || c.database !== this.#string("database") ||
      c.collection !== this.#string("collection") || c.field !== this.#string("incremental_field")
    ) return undefined;
    if (c.last_value !== null && !isTaggedValue(c.last_value)) return undefined;
    try {
      if (c.last_value) decodeCursorValue(c.last_value);
    } catch {
      return undefined;
    }
    return c as MongoSyncCursor;
  }

  /**
   * False only when the collection provably did not change since the sync that stored
   * `cursor`: no change-stream event since then (servers with change streams), or the same
   * count and largest `incremental_field` value (other servers, and only when that field is not
   * `_id`, whose value does not change on updates). True whenever unsure. Edited sync rules are
   * not seen here.
   */
  override async changed(cursor: unknown = this.context.syncCursor): Promise<boolean> {
    const stored = this.#parseCursor(cursor);
    if (!stored) return true;
    try {
      const collection = await this.#collection("check MongoDB for changes");
      if (stored.cluster_time && (await this.#supportsChangeStreams())) {
        const [t, i] = stored.cluster_time.split(":").map(Number);
        const stream = collection.watch([], {
          startAtOperationTime: new Timestamp({ t: t!, i: i! }),
          maxAwaitTimeMS: DEFAULT_CHANGE_STREAM_WAIT_MS,
        });
        try {
          return (await stream.tryNext()) !== null;
        } finally {
          await stream.close().catch(() => {});
        }
      }
      if (stored.field === "_id") return true;
      const now = await this.#snapshot(collection, stored.field);
      return now.count !== stored.count ||
        JSON.stringify(now.lastValue ?? null) !== JSON.stringify(stored.last_value);
    } catch (error) {
      this.logger.warning(
        `Cannot tell whether MongoDB changed, syncing anyway: ${
          redactUri((error as Error).message ?? String(error))
        }`,
      );
      return true;
    }
  }

  /** Closes the driver's connections. */
  override async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#connected = undefined;
    await client?.close().catch(() => {});
  }
}
