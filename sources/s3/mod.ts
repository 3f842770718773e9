/**
 * The Amazon S3 source (`s3`): one document per object of the configured buckets, on AWS or
 * any S3-compatible store.
 *
 * - Configuration fields as Elastic's framework names them (`buckets`, `aws_access_key_id`,
 *   `aws_secret_access_key`, `read_timeout`, `connect_timeout`, `max_attempts`, `page_size`),
 *   plus `region`, `endpoint_url` and `force_path_style` for S3-compatible stores.
 * - Objects are listed page by page (ListObjectsV2, `page_size` keys per request) as a stream.
 *   Each becomes `{_id: "<bucket>/<key>", bucket, key, filename, extension, size, etag,
 *   storage_class, _timestamp: LastModified}`. Text objects (by extension) up to
 *   {@linkcode DEFAULT_S3_MAX_INLINE_TEXT_BYTES} carry their content inline in `text` with the
 *   `content_type` the GET returned (fetched in groups of
 *   {@linkcode DEFAULT_S3_TEXT_FETCH_CONCURRENCY}, in listing order); other objects get a lazy download
 *   that the sync engine runs, bounded by `concurrent_downloads`, when binary content is
 *   extracted: it returns `_attachment` (base64) and `content_type`, stops past
 *   `service.max_file_download_size` and honours the job's abort signal.
 * - Advanced sync rules: `[{"bucket": "b", "prefix": "2024/", "extension": [".pdf"]}]`
 *   (`_rules.ts`); they replace the `buckets` setting.
 * - Incremental sync by LastModified: the cursor keeps, per bucket (or per rule), the newest
 *   LastModified seen, moved back by {@linkcode DEFAULT_S3_CURSOR_OVERLAP_SECONDS} when the
 *   listing saw recent writes; the next incremental sync indexes the objects modified since.
 *   Deleted objects are removed by full syncs only.
 *
 * Credentials go to the SDK only; no message or log line carries them.
 *
 * @example
 * ```ts ignore
 * import { S3DataSource } from "./mod.ts";
 * import { createSource, standaloneContext } from "../../src/source/mod.ts";
 * const source = createSource(S3DataSource, {
 *   buckets: "reports", aws_access_key_id: "AKIA...", aws_secret_access_key: "...",
 * }, standaloneContext());
 * await source.ping();
 * ```
 *
 * @module
 */
import {
  type _Object,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import {
  type AdvancedRuleError,
  BaseDataSource,
  type ConfigurationSpec,
  ConfigurationValidationError,
  decodeUtf8,
  displayUrl,
  type DocItem,
  type Document,
  encodeBase64,
  FatalError,
  type Filtering,
  type IncrementalItem,
  type LazyDownload,
  registerSecret,
  registerUrlSecrets,
  SkippableError,
  type SourceFeatures,
} from "../../src/source/mod.ts";
import { describeS3Error, type S3Target } from "./_errors.ts";
import { extensionOf, parseS3Rules, type S3Rule, scopeKey } from "./_rules.ts";

export { extensionOf, parseS3Rules } from "./_rules.ts";

/** Keys per ListObjectsV2 request (Elastic's default; S3 allows at most 1000). */
export const DEFAULT_S3_PAGE_SIZE = 100;
/** Largest page S3 returns. */
export const MAX_S3_PAGE_SIZE = 1000;
/** Seconds a request may wait for data (Elastic's default). */
export const DEFAULT_S3_READ_TIMEOUT = 90;
/** Seconds to establish a connection (Elastic's default). */
export const DEFAULT_S3_CONNECT_TIMEOUT = 90;
/** Attempts per request, the first included (Elastic's default). */
export const DEFAULT_S3_MAX_ATTEMPTS = 5;
/** Region used when none is configured. */
export const DEFAULT_S3_REGION = "us-east-1";
/** Text objects up to this size carry their content inline in `text`. */
export const DEFAULT_S3_MAX_INLINE_TEXT_BYTES = 1048576;
/**
 * Inline text objects fetched at once while a listing page is turned into documents (the same
 * number as the framework's `bulk.concurrent_downloads` default).
 */
export const DEFAULT_S3_TEXT_FETCH_CONCURRENCY = 10;
/**
 * Seconds the incremental cursor is moved back from the sync's start: S3 refuses requests from
 * clocks more than 15 minutes off, and a multipart upload's LastModified is its start time.
 */
export const DEFAULT_S3_CURSOR_OVERLAP_SECONDS = 900;
/** Version of the cursor layout; other versions are ignored (the next sync indexes everything). */
export const S3_CURSOR_VERSION = 1;
/** Extensions whose objects are text and go inline into `text`. */
export const DEFAULT_S3_TEXT_EXTENSIONS: readonly string[] = [
  ".txt",
  ".text",
  ".md",
  ".markdown",
  ".rst",
  ".adoc",
  ".csv",
  ".tsv",
  ".json",
  ".jsonl",
  ".ndjson",
  ".xml",
  ".html",
  ".htm",
  ".yaml",
  ".yml",
  ".toml",
  ".ini",
  ".cfg",
  ".conf",
  ".log",
  ".sql",
  ".sh",
  ".py",
  ".rb",
  ".js",
  ".ts",
  ".java",
  ".go",
  ".rs",
  ".c",
  ".h",
  ".cpp",
  ".css",
];

/** The sync cursor this source stores on the connector (spec §5.5). */
export interface S3SyncCursor {
  version: number;
  /** Per bucket (or per rule, see `scopeKey`): ISO time from which the next incremental sync lists changes. */
  last_modified: Record<string, string>;
  /** When the last sync started. */
  synced_at: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Characters no S3 bucket name has ever allowed outside (legacy names included). */
const LEGACY_BUCKET_NAME = /^[A-Za-z0-9._-]{3,255}$/;

/**
 * What is wrong with one entry of `buckets` (of `count` entries), or undefined. Names that no
 * S3 store accepts are refused before any request; names AWS allows only for buckets created
 * before 2018 (upper case, `_`) are let through, the store decides.
 *
 * @example
 * ```ts
 * import { bucketNameProblem } from "./mod.ts";
 * if (bucketNameProblem("reports-2024", 1) !== undefined || bucketNameProblem("*", 1) !== undefined) throw new Error();
 * if (!bucketNameProblem("Bad Bucket!", 1)?.includes("is not a valid bucket name")) throw new Error();
 * if (!bucketNameProblem("*", 2)?.includes("only entry")) throw new Error();
 * ```
 */
export function bucketNameProblem(bucket: string, count: number): string | undefined {
  if (bucket === "*") {
    return count === 1 ? undefined : "must be the only entry (* means every bucket)";
  }
  if (LEGACY_BUCKET_NAME.test(bucket)) return undefined;
  return "is not a valid bucket name (3-63 characters: lower-case letters, digits, '.' and '-')";
}

/**
 * What is wrong with an `endpoint_url` value, or undefined (empty means AWS): it must be an
 * absolute `http://` or `https://` URL. The message shows no user-info part.
 *
 * @example
 * ```ts
 * import { endpointProblem } from "./mod.ts";
 * if (endpointProblem("") !== undefined || endpointProblem("http://minio:9000") !== undefined) throw new Error();
 * if (!endpointProblem("not a url")?.includes("must be an http:// or https:// URL")) throw new Error();
 * if (!endpointProblem("ftp://files.example.com")?.includes("got ftp:")) throw new Error();
 * ```
 */
export function endpointProblem(endpoint: string): string | undefined {
  const text = endpoint.trim();
  if (text === "") return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `must be an http:// or https:// URL such as http://minio.internal:9000, got '${
      text.replace(/\/\/[^/@]*@/, "//***@")
    }'`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `must be an http:// or https:// URL such as http://minio.internal:9000, got ${url.protocol}`;
  }
  if (url.hostname === "") return "must name a host, e.g. http://minio.internal:9000";
  return undefined;
}

/** The body of a GetObject response as the Node runtime of the SDK returns it. */
interface SdkBody {
  transformToWebStream(): ReadableStream<Uint8Array>;
  destroy?(): void;
}

/**
 * The Amazon S3 data source (service type `s3`).
 *
 * @example
 * ```ts
 * import { S3DataSource } from "./mod.ts";
 * import { createSource, standaloneContext } from "../../src/source/mod.ts";
 * const source = createSource(S3DataSource, { buckets: "docs" }, standaloneContext());
 * const problems = await source.validateAdvancedRules!([{ bucket: "docs", extension: "txt" }]);
 * if (problems.length !== 1) throw new Error();
 * ```
 */
export class S3DataSource extends BaseDataSource {
  static override displayName = "Amazon S3";
  static override features: Partial<SourceFeatures> = {
    basicRules: true,
    advancedRules: true,
    incrementalSync: true,
    documentLevelSecurity: false,
  };
  /** Seconds the cursor is moved back from the sync's start (tests set 0). */
  static cursorOverlapSeconds = DEFAULT_S3_CURSOR_OVERLAP_SECONDS;

  /** The configuration schema (Elastic's fields and order, then ours). */
  static override getDefaultConfiguration(): ConfigurationSpec {
    return {
      buckets: {
        display: "textarea",
        label: "AWS Buckets",
        order: 1,
        tooltip:
          "Comma-separated bucket names, or * for every bucket the credentials can list. Ignored when advanced sync rules are set.",
        type: "list",
      },
      aws_access_key_id: {
        label: "AWS Access Key Id",
        order: 2,
        required: false,
        tooltip:
          "Leave the key id and the secret empty to use the AWS SDK's default credentials (environment, instance role).",
        type: "str",
      },
      aws_secret_access_key: {
        label: "AWS Secret Key",
        order: 3,
        required: false,
        sensitive: true,
        type: "str",
      },
      read_timeout: {
        default_value: DEFAULT_S3_READ_TIMEOUT,
        display: "numeric",
        label: "Read timeout",
        order: 4,
        required: false,
        type: "int",
        ui_restrictions: ["advanced"],
        validations: [{ type: "greater_than", constraint: 0 }],
      },
      connect_timeout: {
        default_value: DEFAULT_S3_CONNECT_TIMEOUT,
        display: "numeric",
        label: "Connection timeout",
        order: 5,
        required: false,
        type: "int",
        ui_restrictions: ["advanced"],
        validations: [{ type: "greater_than", constraint: 0 }],
      },
      max_attempts: {
        default_value: DEFAULT_S3_MAX_ATTEMPTS,
        display: "numeric",
        label: "Maximum retry attempts",
        order: 6,
        required: false,
        type: "int",
        ui_restrictions: ["advanced"],
        validations: [{ type: "greater_than", constraint: 0 }],
      },
      page_size: {
        default_value: DEFAULT_S3_PAGE_SIZE,
        display: "numeric",
        label: "Maximum size of page",
        order: 7,
        required: false,
        type: "int",
        ui_restrictions: ["advanced"],
        validations: [
          { type: "greater_than", constraint: 0 },
          { type: "less_than", constraint: MAX_S3_PAGE_SIZE + 1 },
        ],
      },
      region: {
        default_value: DEFAULT_S3_REGION,
        label: "AWS Region",
        order: 8,
        required: false,
        tooltip: "Region of the client; requests to buckets elsewhere follow S3's redirects.",
        type: "str",
      },
      endpoint_url: {
        label: "Endpoint URL",
        order: 9,
        required: false,
        tooltip: "For S3-compatible stores, e.g. http://minio.internal:9000. Empty for AWS.",
        type: "str",
        ui_restrictions: ["advanced"],
      },
      force_path_style: {
        display: "toggle",
        label: "Path-style addressing",
        order: 10,
        tooltip: "Address buckets as <endpoint>/<bucket>; most S3-compatible stores need it.",
        type: "bool",
        ui_restrictions: ["advanced"],
        value: false,
      },
    };
  }

  #client: S3Client | undefined;

  #string(key: string): string {
    const value = this.value<unknown>(key);
    return typeof value === "string" ? value.trim() : "";
  }

  #int(key: string, fallback: number): number {
    const value = this.value<unknown>(key);
    return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : fallback;
  }

  /** Where requests go, for messages (never with the user-info of the endpoint URL). */
  get #endpoint(): string {
    const endpoint = this.#string("endpoint_url");
    return endpoint
      ? displayUrl(endpoint)
      : `AWS S3 (${this.#string("region") || DEFAULT_S3_REGION})`;
  }

  /** The SDK client, built on first use (the constructor does no I/O). */
  get #s3(): S3Client {
    if (!this.#client) {
      const config: S3ClientConfig = {
        region: this.#string("region") || DEFAULT_S3_REGION,
        followRegionRedirects: true,
        maxAttempts: this.#int("max_attempts", DEFAULT_S3_MAX_ATTEMPTS),
        // Emulators and most S3-compatible stores reject the newer default checksums.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        requestHandler: {
          requestTimeout: this.#int("read_timeout", DEFAULT_S3_READ_TIMEOUT) * 1000,
          connectionTimeout: this.#int("connect_timeout", DEFAULT_S3_CONNECT_TIMEOUT) * 1000,
        },
      };
      const endpoint = this.#string("endpoint_url");
      registerUrlSecrets(endpoint);
      if (endpoint) config.endpoint = endpoint;
      if (this.value<boolean>("force_path_style") === true) config.forcePathStyle = true;
      const accessKeyId = this.#string("aws_access_key_id");
      const secretAccessKey = this.value<string>("aws_secret_access_key") ?? "";
      if (accessKeyId !== "" || secretAccessKey !== "") {
        registerSecret(secretAccessKey);
        config.credentials = { accessKeyId, secretAccessKey };
      }
      this.#client = new S3Client(config);
    }
    return this.#client;
  }

  /** Sends a command; failures become clear errors naming the bucket (and key). */
  async #send<T>(
    action: string,
    target: Omit<S3Target, "endpoint">,
    run: (client: S3Client, options: { abortSignal: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    this.signal.throwIfAborted();
    try {
      return await run(this.#s3, { abortSignal: this.signal });
    } catch (error) {
      if (this.signal.aborted) throw this.signal.reason;
      throw describeS3Error(error, { ...target, endpoint: this.#endpoint }, action);
    }
  }

  #buckets(): string[] {
    const raw = this.value<unknown>("buckets");
    const list = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : [];
    return [...new Set(list.map((b) => String(b).trim()).filter((b) => b !== ""))];
  }

  /**
   * The scopes of a sync, each listed once (one key) before the first document is yielded: a
   * missing bucket, a refused listing or a bad prefix in the second rule must not fail the sync
   * after the first rule's objects were written.
   */
  async #scopes(filtering?: Filtering): Promise<S3Rule[]> {
    const scopes = await this.#resolveScopes(filtering);
    for (const scope of scopes) {
      await this.#send("list", { bucket: scope.bucket }, (c, o) =>
        c.send(
          new ListObjectsV2Command({
            Bucket: scope.bucket,
            MaxKeys: 1,
            ...(scope.prefix ? { Prefix: scope.prefix } : {}),
          }),
          o,
        ));
    }
    return scopes;
  }

  /** What a sync lists: the advanced rules, else every configured bucket (not yet listed). */
  async #resolveScopes(filtering?: Filtering): Promise<S3Rule[]> {
    await this.validateConfig();
    const { rules, problems } = parseS3Rules(filtering?.advanced_snippet?.value);
    if (problems.length > 0) {
      throw new FatalError(`Invalid advanced sync rules: ${problems.join("; ")}`);
    }
    if (rules) return rules;
    let buckets = this.#buckets();
    if (buckets.length === 1 && buckets[0] === "*") {
      const listed = await this.#send("list", {}, (c, o) => c.send(new ListBucketsCommand({}), o));
      buckets = (listed.Buckets ?? []).map((b) => b.Name ?? "").filter((n) => n !== "");
    }
    if (buckets.length === 0) {
      throw new FatalError("No bucket to sync: set 'AWS Buckets' (buckets) or advanced sync rules");
    }
    return buckets.map((bucket) => ({ bucket, prefix: "", extensions: [] }));
  }

  /** `'Label' (key)` of a field, for messages. */
  #name(key: string): string {
    const label = S3DataSource.getDefaultConfiguration()[key]?.label ?? key.toUpperCase();
    return `'${label}' (${key})`;
  }

  /** Problems of the settings that need no request: the endpoint's form, the bucket names. */
  #settingProblems(): string[] {
    const problems: string[] = [];
    const endpoint = endpointProblem(this.#string("endpoint_url"));
    if (endpoint) problems.push(`${this.#name("endpoint_url")} ${endpoint}`);
    const buckets = this.#buckets();
    for (const bucket of buckets) {
      const problem = bucketNameProblem(bucket, buckets.length);
      if (problem) problems.push(`${this.#name("buckets")} value '${bucket}' ${problem}`);
    }
    return problems;
  }

  /**
   * Checks the settings that need no request, naming the field: the SDK would otherwise report
   * a malformed endpoint as a failure of the first bucket it tries.
   */
  override validateConfig(): Promise<void> {
    const problems = this.#settingProblems();
    if (problems.length > 0) return Promise.reject(new ConfigurationValidationError(problems));
    return Promise.resolve();
  }

  /** Checks that every configured bucket exists and is accessible (or that buckets can be listed for `*`). */
  override async ping(): Promise<void> {
    await this.validateConfig();
    const buckets = this.#buckets();
    if (buckets.length === 0 || (buckets.length === 1 && buckets[0] === "*")) {
      await this.#send("list", {}, (c, o) => c.send(new ListBucketsCommand({}), o));
    } else {
      for (const bucket of buckets) {
        await this.#send(
          "access",
          { bucket },
          (c, o) => c.send(new HeadBucketCommand({ Bucket: bucket }), o),
        );
      }
    }
    this.logger.debug(`S3 at ${this.#endpoint} answered for ${buckets.length} bucket(s)`);
  }

  /** Checks an advanced-rules snippet; returns one entry per problem. */
  override validateAdvancedRules(snippet: unknown): Promise<AdvancedRuleError[]> {
    return Promise.resolve(parseS3Rules(snippet).problems.map((message) => ({ message })));
  }

  /** Streams one document per object of the configured buckets (or the rules' selection). */
  override async *getDocs(filtering?: Filtering): AsyncGenerator<DocItem> {
    const scopes = await this.#scopes(filtering);
    this.logger.info(
      `Listing ${scopes.length} S3 bucket scope(s) at ${this.#endpoint}: ${
        scopes.map((s) => `${s.bucket}/${s.prefix}`).join(", ")
      }`,
    );
    const started = Date.now();
    const newest = new Map<string, number>();
    for (const scope of scopes) {
      for await (const item of this.#scan(scope, undefined, newest)) yield item;
    }
    this.cursor = this.#cursorFrom(newest, started);
  }

  /** Streams, as index operations, the objects modified since the cursor's time for their scope. */
  override async *getDocsIncrementally(
    cursor: unknown,
    filtering?: Filtering,
  ): AsyncGenerator<IncrementalItem> {
    const scopes = await this.#scopes(filtering);
    const previous = this.#parseCursor(cursor);
    if (!previous) this.logger.info("No usable S3 sync cursor: indexing every object");
    const started = Date.now();
    const newest = new Map<string, number>();
    for (const scope of scopes) {
      const since = previous?.last_modified[scopeKey(scope)];
      const bound = since ? Date.parse(since) : undefined;
      for await (const item of this.#scan(scope, bound, newest)) {
        const [doc, lazy] = Array.isArray(item) ? item : [item, null];
        yield [doc, lazy, "index"];
      }
    }
    this.cursor = this.#cursorFrom(newest, started);
  }

  #parseCursor(cursor: unknown): S3SyncCursor | undefined {
    if (!isPlainObject(cursor) || cursor.version !== S3_CURSOR_VERSION) return undefined;
    if (!isPlainObject(cursor.last_modified)) return undefined;
    const entries = Object.entries(cursor.last_modified);
    if (!entries.every(([, v]) => typeof v === "string" && !Number.isNaN(Date.parse(v)))) {
      return undefined;
    }
    return cursor as unknown as S3SyncCursor;
  }

  /** The cursor after a listing: per scope, the newest LastModified, but not later than the start minus the overlap. */
  #cursorFrom(newest: Map<string, number>, started: number): S3SyncCursor {
    const overlap = (this.constructor as typeof S3DataSource).cursorOverlapSeconds * 1000;
    const lastModified: Record<string, string> = {};
    for (const [scope, time] of newest) {
      lastModified[scope] = new Date(Math.min(time, started - overlap)).toISOString();
    }
    return {
      version: S3_CURSOR_VERSION,
      last_modified: lastModified,
      synced_at: new Date(started).toISOString(),
    };
  }

  /** Lists a scope page by page and yields the documents of the objects it keeps. */
  async *#scan(
    scope: S3Rule,
    since: number | undefined,
    newest: Map<string, number>,
  ): AsyncGenerator<DocItem> {
    const key = scopeKey(scope);
    const pageSize = Math.min(this.#int("page_size", DEFAULT_S3_PAGE_SIZE), MAX_S3_PAGE_SIZE);
    let token: string | undefined;
    let listed = 0;
    let kept = 0;
    do {
      const page = await this.#send("list", { bucket: scope.bucket }, (c, o) =>
        c.send(
          new ListObjectsV2Command({
            Bucket: scope.bucket,
            MaxKeys: pageSize,
            ...(scope.prefix ? { Prefix: scope.prefix } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
          o,
        ));
      const objects = (page.Contents ?? []).filter((o) => this.#keep(o, scope));
      listed += page.KeyCount ?? page.Contents?.length ?? 0;
      for (const object of objects) {
        const time = object.LastModified?.getTime();
        if (time !== undefined && time > (newest.get(key) ?? -Infinity)) newest.set(key, time);
      }
      const changed = since === undefined
        ? objects
        : objects.filter((o) => (o.LastModified?.getTime() ?? Infinity) >= since);
      // A slice at a time: inline texts are fetched together, and at most one slice is held.
      for (let at = 0; at < changed.length; at += DEFAULT_S3_TEXT_FETCH_CONCURRENCY) {
        const slice = changed.slice(at, at + DEFAULT_S3_TEXT_FETCH_CONCURRENCY);
        const items = await Promise.all(slice.map((object) => this.#item(scope.bucket, object)));
        for (const item of items) {
          if (item) {
            kept++;
            yield item;
          }
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    this.logger.debug(
      `Listed ${listed} objects in bucket ${scope.bucket}${
        scope.prefix ? ` under ${scope.prefix}` : ""
      }; yielded ${kept}`,
    );
  }

  /** Objects a scope keeps: not folder markers, and of a wanted extension. */
  #keep(object: _Object, scope: S3Rule): boolean {
    const key = object.Key;
    if (!key || (key.endsWith("/") && (object.Size ?? 0) === 0)) return false;
    return scope.extensions.length === 0 || scope.extensions.includes(extensionOf(key));
  }

  /** The document of an object: text inline when small, else with a lazy download. */
  async #item(bucket: string, object: _Object): Promise<DocItem | undefined> {
    const key = object.Key!;
    const size = object.Size ?? 0;
    const extension = extensionOf(key);
    const doc: Document = {
      _id: `${bucket}/${key}`,
      bucket,
      key,
      filename: key.slice(key.lastIndexOf("/") + 1),
      extension,
      size,
      etag: (object.ETag ?? "").replace(/^"|"$/g, ""),
      storage_class: object.StorageClass ?? "STANDARD",
    };
    if (object.LastModified) doc._timestamp = object.LastModified.toISOString();
    const inlineCap = Math.min(DEFAULT_S3_MAX_INLINE_TEXT_BYTES, this.context.maxFileSize);
    if (DEFAULT_S3_TEXT_EXTENSIONS.includes(extension) && size <= inlineCap) {
      try {
        const { bytes, contentType } = await this.#download(bucket, key, inlineCap);
        const text = decodeUtf8(bytes);
        if (text !== undefined) {
          doc.text = text;
          if (contentType) doc.content_type = contentType;
          return doc;
        }
      } catch (error) {
        if (!(error instanceof SkippableError)) throw error;
        // Deleted since the listing: nothing to index. Archived or grown: index without text.
        if (/no longer exists/.test(error.message)) return undefined;
        this.logger.warning(error.message);
        return doc;
      }
    }
    return [doc, this.#lazyDownload(bucket, key, size)];
  }

  /** A download the sync engine runs when binary content is extracted. */
  #lazyDownload(bucket: string, key: string, size: number): LazyDownload {
    return async (doit) => {
      if (!doit) return undefined;
      const cap = this.context.maxFileSize;
      if (size > cap) {
        this.logger.debug(
          `Not downloading ${bucket}/${key}: ${size} bytes is more than max_file_download_size (${cap})`,
        );
        return undefined;
      }
      const { bytes, contentType } = await this.#download(bucket, key, cap);
      const fields: Record<string, unknown> = { _attachment: encodeBase64(bytes) };
      if (contentType) fields.content_type = contentType;
      return fields;
    };
  }

  /** GETs an object, reading at most `cap` bytes; a larger object is a skippable error. */
  async #download(
    bucket: string,
    key: string,
    cap: number,
  ): Promise<{ bytes: Uint8Array; contentType: string | undefined }> {
    const out = await this.#send(
      "download",
      { bucket, key },
      (c, o) => c.send(new GetObjectCommand({ Bucket: bucket, Key: key }), o),
    );
    const body = out.Body as SdkBody | undefined;
    const tooLarge = () =>
      new SkippableError(
        `Cannot download object '${key}' of bucket '${bucket}': larger than ${cap} bytes`,
      );
    if (!body) return { bytes: new Uint8Array(), contentType: out.ContentType };
    if (out.ContentLength !== undefined && out.ContentLength > cap) {
      body.destroy?.();
      throw tooLarge();
    }
    const reader = body.transformToWebStream().getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    const onAbort = () => reader.cancel(this.signal.reason).catch(() => {});
    this.signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        this.signal.throwIfAborted();
        total += value.byteLength;
        if (total > cap) {
          await reader.cancel().catch(() => {});
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (error) {
      if (this.signal.aborted) throw this.signal.reason;
      if (error instanceof SkippableError) throw error;
      throw describeS3Error(error, { bucket, key, endpoint: this.#endpoint }, "download");
    } finally {
      this.signal.removeEventListener("abort", onAbort);
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    return { bytes, contentType: out.ContentType };
  }

  /** Releases the SDK's connections. */
  override close(): Promise<void> {
    this.#client?.destroy();
    this.#client = undefined;
    return Promise.resolve();
  }
}
