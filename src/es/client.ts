/**
 * The Elasticsearch client every module uses: `npm:@elastic/elasticsearch` 8.19, whose
 * `compatible-with=8` requests are accepted by both 8.x and 9.x servers, with our own retry
 * (jittered exponential backoff on 429, 5xx and connection errors) and the
 * `X-elastic-product-origin: connectors` header on every request.
 *
 * @module
 */
import { Client, errors, Transport } from "@elastic/elasticsearch";
import type { ClientOptions } from "@elastic/elasticsearch";
import type { ElasticsearchConfig } from "../config/mod.ts";
import { classifyError, ConfigError, statusOf } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { nullLogger, registerSecret, registerUrlSecrets } from "../log/mod.ts";
import { describeCredentials, esReason, normalizeApiKey } from "./auth.ts";
import { backoffDelay, sleep } from "../async/mod.ts";
import { isTlsTrustFailure } from "./tls.ts";

export { Client, errors };

/** The product-origin header Elasticsearch 9.x requires for direct access to system indices. */
export const PRODUCT_ORIGIN_HEADER = "X-elastic-product-origin";
/** This product's version, sent in the user agent. */
export const SERVICE_VERSION = "0.1.0";
/** User agent of every request. */
export const USER_AGENT = `connectors-deno/${SERVICE_VERSION}/service`;

/** Options of {@linkcode createEsClient}. */
export interface EsClientOptions {
  /** Receives one line per retry. */
  logger?: Logger;
  /** An API key replacing the configured credentials (per-connector keys). */
  apiKey?: string;
  /** Where {@linkcode EsClientOptions.apiKey} is configured, for messages (`connectors[0].api_key`). */
  apiKeySource?: string;
  /** Overrides `max_retries` (e.g. 0 for probes that must fail fast). */
  maxRetries?: number;
  /** Overrides `retry_interval`, seconds (e.g. short waits for interactive commands). */
  retryInterval?: number;
  /** Aborts pending retry waits on shutdown. */
  signal?: AbortSignal;
}

interface RetryContext {
  logger: Logger;
  /** The credential the client uses, named without its secret. */
  credentials: string;
  maxRetries: number;
  initial: number;
  signal: AbortSignal | undefined;
}

const retryContexts = new WeakMap<Transport, RetryContext>();

/**
 * A transport that retries retriable failures with jittered exponential backoff. Per request,
 * `maxRetries` and `retryInterval` (seconds of the first wait) override the client's values.
 */
class RetryingTransport extends Transport {
  // deno-lint-ignore no-explicit-any
  override async request(params: any, { retryInterval, ...options }: any = {}): Promise<any> {
    const ctx = retryContexts.get(this);
    const maxRetries = typeof options.maxRetries === "number"
      ? options.maxRetries
      : ctx?.maxRetries ?? 0;
    const initial = typeof retryInterval === "number" ? retryInterval : ctx?.initial ?? 0;
    for (let attempt = 0;; attempt++) {
      try {
        return await super.request(params, { ...options, maxRetries: 0 });
      } catch (error) {
        if (attempt >= maxRetries || classifyError(error) !== "retriable" || !ctx) throw error;
        if (options.ignore?.includes(statusOf(error))) throw error;
        const wait = backoffDelay(attempt, { initial, multiplier: 2 });
        ctx.logger.warning(
          `Elasticsearch ${params.method} ${params.path} failed (${
            describeFailure(error)
          }); retry ${attempt + 1}/${maxRetries} in ${(wait / 1000).toFixed(1)}s`,
        );
        await sleep(wait, ctx.signal);
      }
    }
  }
}

/**
 * A short reason for a failed request: `HTTP 429`, `connection refused`, `timeout`.
 *
 * @example
 * ```ts
 * import { describeFailure } from "./client.ts";
 * if (describeFailure(new Error("x")) !== "x") throw new Error();
 * ```
 */
export function describeFailure(error: unknown): string {
  const status = statusOf(error);
  if (status === 401 || status === 403) {
    const reason = esReason(error);
    return reason ? `HTTP ${status}: ${reason}` : `HTTP ${status}`;
  }
  if (status !== undefined) return `HTTP ${status}`;
  if (error instanceof errors.TimeoutError) return "timeout";
  if (isTlsTrustFailure(error)) {
    return `TLS certificate not trusted (${
      (error as Error).message
    }; set elasticsearch.ca_certs to the CA that signed it)`;
  }
  if (error instanceof errors.ConnectionError) {
    return /ECONNREFUSED|refused/i.test(error.message) ? "connection refused" : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Builds a client from the `elasticsearch` config section.
 *
 * @example
 * ```ts
 * import { createEsClient } from "./client.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const client = createEsClient(defaultConfig().elasticsearch);
 * await client.close();
 * ```
 */
export function createEsClient(config: ElasticsearchConfig, options: EsClientOptions = {}): Client {
  const clientOptions: ClientOptions = {
    node: config.host,
    requestTimeout: config.request_timeout * 1000,
    maxRetries: 0,
    Transport: RetryingTransport,
    compression: false,
    headers: {
      // Lower case: the client merges option headers case-sensitively and would send it twice.
      [PRODUCT_ORIGIN_HEADER.toLowerCase()]: "connectors",
      "user-agent": USER_AGENT,
      ...config.headers,
    },
  };
  registerUrlSecrets(config.host);
  const apiKey = options.apiKey ?? config.api_key;
  if (apiKey) {
    // Both forms Elastic hands out work: the encoded value and `id:secret`.
    clientOptions.auth = { apiKey: normalizeApiKey(apiKey) };
  } else if (config.username !== undefined) {
    const password = config.password ?? "";
    registerSecret(password);
    registerSecret(`${config.username}:${password}`);
    clientOptions.auth = { username: config.username, password };
  }
  if (config.host.startsWith("https:")) {
    const tls: NonNullable<ClientOptions["tls"]> = { rejectUnauthorized: config.verify_certs };
    if (config.ca_certs) tls.ca = readCaCerts(config.ca_certs);
    clientOptions.tls = tls;
  }
  const client = new Client(clientOptions);
  const own = options.apiKey
    ? { apiKey: options.apiKey, source: options.apiKeySource ?? "a connector's api_key" }
    : undefined;
  retryContexts.set(client.transport as Transport, {
    logger: options.logger ?? nullLogger,
    credentials: describeCredentials(config, own),
    maxRetries: options.maxRetries ?? config.max_retries,
    // `retry_interval` is the first wait; later ones double (jittered, at most DEFAULT_MAX_BACKOFF).
    initial: Math.max(0, options.retryInterval ?? config.retry_interval),
    signal: options.signal,
  });
  return client;
}

/** Reads the `ca_certs` PEM file; a missing or unreadable file is a {@linkcode ConfigError}. */
function readCaCerts(path: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ? `permission denied (run with --allow-read=${path})`
      : (error as Error).message;
    throw new ConfigError(`elasticsearch.ca_certs: cannot read ${path}: ${why}`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigError(`elasticsearch.ca_certs: ${path} holds no PEM certificate`);
  }
  return text;
}

/**
 * The credential a client made by {@linkcode createEsClient} uses, named without its secret
 * (`API key id X (elasticsearch.api_key)`, `user bob (elasticsearch.username)`).
 *
 * @example
 * ```ts
 * import { createEsClient, credentialsOf } from "./client.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const client = createEsClient({ ...defaultConfig().elasticsearch, username: "bob", password: "pw-12345" });
 * if (credentialsOf(client) !== "user bob (elasticsearch.username)") throw new Error();
 * await client.close();
 * ```
 */
export function credentialsOf(client: Client): string {
  return retryContexts.get(client.transport as Transport)?.credentials ??
    "the client's credentials";
}

/**
 * The logger a client made by {@linkcode createEsClient} reports to (retries), for modules that
 * receive only the client; {@linkcode nullLogger} for other clients.
 *
 * @example
 * ```ts
 * import { clientLogger, createEsClient } from "./client.ts";
 * import { defaultConfig, } from "../config/mod.ts";
 * import { nullLogger } from "../log/mod.ts";
 * const client = createEsClient(defaultConfig().elasticsearch);
 * if (clientLogger(client) !== nullLogger) throw new Error();
 * await client.close();
 * ```
 */
export function clientLogger(client: Client): Logger {
  return retryContexts.get(client.transport as Transport)?.logger ?? nullLogger;
}
