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
import { classifyError, statusOf } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { nullLogger, registerSecret } from "../log/mod.ts";
import { backoffDelay, sleep } from "./retry.ts";

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
  /** Overrides `max_retries` (e.g. 0 for probes that must fail fast). */
  maxRetries?: number;
  /** Aborts pending retry waits on shutdown. */
  signal?: AbortSignal;
}

interface RetryContext {
  logger: Logger;
  maxRetries: number;
  initial: number;
  signal: AbortSignal | undefined;
}

const retryContexts = new WeakMap<Transport, RetryContext>();

/** A transport that retries retriable failures with jittered exponential backoff. */
class RetryingTransport extends Transport {
  // deno-lint-ignore no-explicit-any
  override async request(params: any, options: any = {}): Promise<any> {
    const ctx = retryContexts.get(this);
    const maxRetries = typeof options.maxRetries === "number"
      ? options.maxRetries
      : ctx?.maxRetries ?? 0;
    for (let attempt = 0;; attempt++) {
      try {
        return await super.request(params, { ...options, maxRetries: 0 });
      } catch (error) {
        if (attempt >= maxRetries || classifyError(error) !== "retriable" || !ctx) throw error;
        if (options.ignore?.includes(statusOf(error))) throw error;
        const wait = backoffDelay(attempt, { initial: ctx.initial, multiplier: 2 });
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
  if (status !== undefined) return `HTTP ${status}`;
  if (error instanceof errors.TimeoutError) return "timeout";
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
  const apiKey = options.apiKey ?? config.api_key;
  if (apiKey) {
    registerSecret(apiKey);
    clientOptions.auth = { apiKey };
  } else if (config.username !== undefined) {
    clientOptions.auth = { username: config.username, password: config.password ?? "" };
  }
  if (config.host.startsWith("https:")) {
    const tls: NonNullable<ClientOptions["tls"]> = { rejectUnauthorized: config.verify_certs };
    if (config.ca_certs) tls.ca = Deno.readTextFileSync(config.ca_certs);
    clientOptions.tls = tls;
  }
  const client = new Client(clientOptions);
  retryContexts.set(client.transport as Transport, {
    logger: options.logger ?? nullLogger,
    maxRetries: options.maxRetries ?? config.max_retries,
    initial: Math.max(0.1, Math.min(config.retry_interval, config.initial_backoff_duration * 2)),
    signal: options.signal,
  });
  return client;
}
