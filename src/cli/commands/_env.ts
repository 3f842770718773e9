/**
 * What every management command receives: the CLI context, the prompter, output helpers and a
 * lazily created Elasticsearch client whose connection failures read as one clear line.
 *
 * @module
 */
import { dirname } from "node:path";
import type { Client } from "@elastic/elasticsearch";
import { classifyError, ConnectorsError, errorMessage, FatalError } from "../../errors/mod.ts";
import {
  createEsClient,
  credentialsOf,
  describeAuthFailure,
  describeFailure,
  isAuthFailure,
  isTlsTrustFailure,
  mayBePlainToTls,
  startupFailure,
  tlsTrustHint,
  tlsWarnings,
} from "../../es/mod.ts";
import type { ClusterInfo } from "../../es/mod.ts";
import { readClusterInfo } from "../../es/mod.ts";
import { displayUrl } from "../../log/mod.ts";
import { SourceRegistry } from "../../source/mod.ts";
import type { CliContext } from "../context.ts";
import type { Prompter } from "./_prompt.ts";
import { toJson } from "../output.ts";

/** Retries of a management request on a passing failure (commands fail fast, the service waits). */
export const DEFAULT_COMMAND_MAX_RETRIES = 1;
/** Seconds before that retry: a person is waiting at the terminal. */
export const DEFAULT_COMMAND_RETRY_INTERVAL = 1;

const CLIENT_ERRORS = ["ConnectionError", "TimeoutError", "NoLivingConnectionsError"];

/**
 * The environment of one command run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "../../config/mod.ts";
 * import { nullLogger } from "../../log/mod.ts";
 * import { parseCliArgs } from "../args.ts";
 * import { CommandEnv } from "./_env.ts";
 * import { terminalPrompter } from "./_prompt.ts";
 * const printed: string[] = [];
 * const env = new CommandEnv({
 *   options: parseCliArgs(["connector", "list"]),
 *   config: defaultConfig(),
 *   logger: nullLogger,
 *   print: (text) => void printed.push(text),
 * }, terminalPrompter());
 * try {
 *   env.print(`Elasticsearch at ${env.host}`);
 *   assert.deepEqual(printed, ["Elasticsearch at http://localhost:9200"]);
 * } finally {
 *   await env.close(); // no client was created: nothing to release
 * }
 * ```
 */
export class CommandEnv {
  /** Global options, config, logger and stdout writer. */
  readonly context: CliContext;
  /** Asks questions when stdin is a terminal. */
  readonly prompter: Prompter;
  #client: Client | undefined;
  #registry: SourceRegistry | undefined;

  constructor(context: CliContext, prompter: Prompter) {
    this.context = context;
    this.prompter = prompter;
  }

  /** Writes command output (stdout). */
  print(text: string): void {
    this.context.print(text);
  }

  /** Writes a value as pretty JSON (stdout). */
  printJson(value: unknown): void {
    this.context.print(toJson(value));
  }

  /** A warning for the person running the command (stderr, through the logger). */
  warn(text: string): void {
    this.context.logger.warning(text);
  }

  /** The Elasticsearch URL of the config, for output: without user name and password. */
  get host(): string {
    return displayUrl(this.context.config.elasticsearch.host);
  }

  /** The client (created on first use, closed by {@linkcode CommandEnv.close}). */
  client(): Client {
    if (!this.#client) {
      for (const warning of tlsWarnings(this.context.config.elasticsearch)) this.warn(warning);
      this.#client = createEsClient(this.context.config.elasticsearch, {
        logger: this.context.logger,
        maxRetries: DEFAULT_COMMAND_MAX_RETRIES,
        retryInterval: DEFAULT_COMMAND_RETRY_INTERVAL,
      });
    }
    return this.#client;
  }

  /**
   * Version and health of the cluster; fails with a readable message when it is unreachable,
   * refuses the credentials, or when TLS is misconfigured (`ca_certs`, `http://` to a TLS port).
   */
  async cluster(): Promise<ClusterInfo> {
    try {
      const info = await readClusterInfo(this.client());
      for (const sentence of info.denied ?? []) this.warn(sentence);
      return info;
    } catch (error) {
      const es = this.context.config.elasticsearch;
      const fatal = await startupFailure(error, this.client(), es, "");
      throw fatal ?? this.explain(error);
    }
  }

  /** The configured sources (relative paths resolve against the config file's folder). */
  registry(): SourceRegistry {
    this.#registry ??= new SourceRegistry(this.context.config.sources, {
      baseDir: dirname(this.context.config.file),
      logger: this.context.logger,
    });
    return this.#registry;
  }

  /**
   * Turns a failure into the error the CLI prints: an unreachable cluster becomes one line naming
   * the host and where it is configured; the project's own errors pass through.
   */
  explain(error: unknown): unknown {
    if (error instanceof ConnectorsError || !(error instanceof Error)) return error;
    // Only the client's own failures: a broken stdout pipe is not the cluster's fault.
    const fromClient = (error as { meta?: unknown }).meta !== undefined ||
      CLIENT_ERRORS.includes(error.name);
    if (!fromClient) return error;
    const es = this.context.config.elasticsearch;
    if (isTlsTrustFailure(error)) {
      return new FatalError(
        `Cannot connect to Elasticsearch at ${this.host}: ${error.message}: ${tlsTrustHint(es)}`,
        { cause: error },
      );
    }
    if (classifyError(error) === "retriable") {
      const hint = mayBePlainToTls(es.host, error)
        ? `if the server speaks TLS on that port, use https:// in elasticsearch.host (${this.context.config.file})`
        : `set elasticsearch.host in ${this.context.config.file} or CONNECTORS_ES_HOST`;
      return new FatalError(
        `Cannot reach Elasticsearch at ${this.host}: ${describeFailure(error)} (${hint})`,
        { cause: error },
      );
    }
    if (isAuthFailure(error)) {
      return new FatalError(describeAuthFailure(error, credentialsOf(this.client())), {
        cause: error,
      });
    }
    if ((error as { meta?: unknown }).meta !== undefined) {
      return new FatalError(`Elasticsearch refused the request: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    return error;
  }

  /** Releases the client. */
  async close(): Promise<void> {
    await this.#client?.close();
  }
}
