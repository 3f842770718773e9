/**
 * Preflight: wait for the cluster with backoff, then check its version. Works without the
 * root endpoint (`GET /`), which some distributions lack, through `_cluster/health` and `_nodes`.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import type { ElasticsearchConfig } from "../config/mod.ts";
import { FatalError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { nullLogger } from "../log/mod.ts";
import { describeFailure } from "./client.ts";
import { backoffDelay, sleep } from "./retry.ts";

/** Elasticsearch majors this product serves (the 8.19 client speaks to both). */
export const SUPPORTED_ES_MAJORS: readonly number[] = [8, 9];

/** What the preflight learnt about the cluster. */
export interface ClusterInfo {
  /** Version of the node answering, e.g. `9.2.4`. */
  version: string;
  /** Major of {@linkcode ClusterInfo.version}. */
  major: number;
  /** Name of the cluster. */
  clusterName: string;
  /** Health status seen. */
  status: string;
}

/** Options of {@linkcode waitForCluster}. */
export interface PreflightOptions {
  /** One line per backoff step. */
  logger?: Logger;
  /** Stops waiting (shutdown). */
  signal?: AbortSignal;
  /** Skip the version check (env `ALLOW_ES_VERSION_MISMATCH`). */
  allowVersionMismatch?: boolean;
}

/**
 * Reads version and health in one round trip each; throws on any failure.
 *
 * @example
 * ```ts ignore
 * import { readClusterInfo } from "./preflight.ts";
 * const info = await readClusterInfo(client);
 * console.log(info.version);
 * ```
 */
export async function readClusterInfo(client: Client): Promise<ClusterInfo> {
  const health = await client.cluster.health({}, { maxRetries: 0 } as never);
  const nodes = await client.nodes.info(
    { node_id: "_local", metric: "_none", filter_path: "nodes.*.version" } as never,
    { maxRetries: 0 } as never,
  ) as unknown as { nodes?: Record<string, { version?: string }> };
  const version = Object.values(nodes.nodes ?? {})[0]?.version ?? "unknown";
  return {
    version,
    major: Number.parseInt(version, 10),
    clusterName: health.cluster_name,
    status: health.status,
  };
}

/**
 * Waits for the cluster up to `max_wait_duration` seconds with exponential backoff, then
 * checks that its major version is supported.
 *
 * @example
 * ```ts ignore
 * import { waitForCluster } from "./preflight.ts";
 * const info = await waitForCluster(client, config.elasticsearch, { logger });
 * ```
 */
export async function waitForCluster(
  client: Client,
  config: ElasticsearchConfig,
  options: PreflightOptions = {},
): Promise<ClusterInfo> {
  const logger = options.logger ?? nullLogger;
  const deadline = Date.now() + config.max_wait_duration * 1000;
  let lastFailure = "";
  for (let attempt = 0;; attempt++) {
    try {
      const info = await readClusterInfo(client);
      if (!options.allowVersionMismatch && !SUPPORTED_ES_MAJORS.includes(info.major)) {
        throw new FatalError(
          `Elasticsearch at ${config.host} runs version ${info.version}; this service supports majors ${
            SUPPORTED_ES_MAJORS.join(" and ")
          } (set ALLOW_ES_VERSION_MISMATCH=true to try anyway)`,
        );
      }
      return info;
    } catch (error) {
      if (error instanceof FatalError) throw error;
      lastFailure = describeFailure(error);
      const wait = backoffDelay(attempt, {
        initial: config.initial_backoff_duration,
        multiplier: config.backoff_multiplier,
      });
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      logger.warning(
        `Elasticsearch at ${config.host} is not ready (${lastFailure}); retrying in ${
          (Math.min(wait, remaining) / 1000).toFixed(1)
        }s`,
      );
      await sleep(Math.min(wait, remaining), options.signal);
    }
  }
  throw new FatalError(
    `Cannot reach Elasticsearch at ${config.host} within ${config.max_wait_duration}s (elasticsearch.max_wait_duration): ${lastFailure}`,
  );
}
