/**
 * What every management command receives: the CLI context, the prompter, output helpers and a
 * lazily created Elasticsearch client whose connection failures read as one clear line.
 *
 * @module
 */
import { dirname } from "node:path";
import type { Client } from "@elastic/elasticsearch";
import { classifyError, ConnectorsError, errorMessage, FatalError } from "../../errors/mod.ts";
import { createEsClient, describeFailure } from "../../es/mod.ts";
import type { ClusterInfo } from "../../es/mod.ts";
import { readClusterInfo } from "../../es/mod.ts";
import { SourceRegistry } from "../../source/mod.ts";
import type { CliContext } from "../main.ts";
import type { Prompter } from "./_prompt.ts";
import { toJson } from "./_output.ts";

/** Retries of a management request on a passing failure (commands fail fast, the service waits). */
export const DEFAULT_COMMAND_MAX_RETRIES = 1;

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

  /** The Elasticsearch URL of the config. */
  get host(): string {
    return this.context.config.elasticsearch.host;
  }

  /** The client (created on first use, closed by {@linkcode CommandEnv.close}). */
  client(): Client {
    this.#client ??= createEsClient(this.context.config.elasticsearch, {
      logger: this.context.logger,
      maxRetries: DEFAULT_COMMAND_MAX_RETRIES,
    });
    return this.#client;
  }

  /** Version and health of the cluster; fails with a readable message when it is unreachable. */
  async cluster(): Promise<ClusterInfo> {
    try {
      return await readClusterInfo(this.client());
    } catch (error) {
      throw this.explain(error);
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
    if (classifyError(error) === "retriable") {
      return new FatalError(
        `Cannot reach Elasticsearch at ${this.host}: ${
          describeFailure(error)
        } (set elasticsearch.host in ${this.context.config.file} or CONNECTORS_ES_HOST)`,
        { cause: error },
      );
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
